/**
 * Neo4j Browser as a room explorer, driven in Debian's Chromium as a new user would: the connect link opens the
 * Browser connected with no form, the room style is applied and the room guide opens; the guide's blocks set the
 * parameters and run the shipped queries (cypher/queries) on an imported room; what is drawn and tabulated is
 * checked against the same queries run with the driver. Saves the README's screenshots into docs/.
 * The tests are the steps of one Browser session, in order, as an analyst would take them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { RoomBuilder } from '../../src/generator/room-builder';
import { loadCypher } from '../../src/store/cypher-files';
import neo4j, { type Node, type Path } from 'neo4j-driver';
import type { Graph } from '../../src/store/neo4j';
import { ALICE, buildEveryKindRoom } from '../helpers/every-kind-room';
import { importLines, openTestGraph } from '../helpers/graph';
import { addRedaction } from '../helpers/redaction-event';
import { launchChromium, type Chromium } from './chromium';

const ROOT = join(__dirname, '..', '..');
const DOCS = join(ROOT, 'docs');
const QUERIES = loadCypher(['queries/newest-events', 'queries/events-per-sender', 'queries/state-at-event']);
/** browser/style.json: GraSS as JSON, rules in order, a later matching rule overriding an earlier one. */
const STYLE = JSON.parse(readFileSync(join(ROOT, 'browser', 'style.json'), 'utf8')) as Record<string, Record<string, string>>;

/** A style property Browser gives a node with these labels under browser/style.json. */
function styleFor(labels: readonly string[], property: string): string {
  let value = '';
  for (const [selector, props] of Object.entries(STYLE)) {
    const [tag, ...classes] = selector.split('.');
    if (tag === 'node' && classes.every((label) => labels.includes(label)) && props[property]) value = props[property];
  }
  return value;
}

const fillFor = (labels: readonly string[]) => styleFor(labels, 'color');

/** The caption Browser draws: the style's template with `{property}` filled in from the node. */
function captionFor(node: Node): string {
  return styleFor(node.labels, 'caption').replace(/\{(\w+)\}/g, (_, name: string) => String(node.properties[name] ?? ''));
}

interface DrawnNode { caption: string; fill: string; stroke: string }

/** The little of the DOM the page functions below use (the project compiles without the DOM library). */
interface DomElement {
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
}

const byCaptionAndFill = (a: DrawnNode, b: DrawnNode) => `${a.caption}|${a.fill}|${a.stroke}`.localeCompare(`${b.caption}|${b.fill}|${b.stroke}`);

let graph: Graph;
let browser: Chromium;
let page: Page;
const room = new RoomBuilder('10', 'browser-explore');
const events = buildEveryKindRoom(room);
// Alice (power 100) redacts Bob's message b2: the explorer marks it.
addRedaction(room, ALICE, events.b2!.event_id, [events.tail!]);
/**
 * A second, smaller room whose members' servers have long names (IP literals with a port, a long DNS name): the
 * analyst switches to it with room_id alone, and its captions must be drawn whole.
 */
const servers = new RoomBuilder('10', 'browser-explore/long-server-names');
const LONG_SENDERS = ['@alice:127.0.0.1:28443', '@bob:[2001:db8::1]:8448', '@carol:matrix.example-uni.org', '@dave:192.168.100.200:8448'];
servers.create(LONG_SENDERS[0]!);
for (const user of LONG_SENDERS) {
  if (user === LONG_SENDERS[0]) servers.add({ type: 'm.room.member', state_key: user, sender: user, content: { membership: 'join' } });
  if (user === LONG_SENDERS[0]) servers.add({ type: 'm.room.join_rules', state_key: '', sender: user, content: { join_rule: 'public' } });
  if (user === LONG_SENDERS[0]) servers.add({ type: 'm.room.history_visibility', state_key: '', sender: user, content: { history_visibility: 'shared' } });
  else servers.add({ type: 'm.room.member', state_key: user, sender: user, content: { membership: 'join' } });
}
for (const user of LONG_SENDERS) servers.add({ type: 'm.room.message', sender: user, content: { msgtype: 'm.text', body: `hello from ${user}` } });
const browserUrl = () => process.env.TEST_BROWSER_URL!;
const guideUrl = () => process.env.TEST_GUIDE_URL!;
const styleUrl = () => guideUrl().replace(/guide\.html$/, 'style.json');

/** Clicks a runnable block of the guide (it fills the editor), runs it, and waits for its frame. */
async function runGuideBlock(query: string): Promise<void> {
  const frames = await page.getByTestId('frame').count();
  await page.locator(`[data-testid="carousel"] pre[data-query="${query}"]`).click();
  await page.getByTestId('editor-Run').click();
  // Polled from here: a function evaluated in the page is refused now and then by the Browser's CSP (no unsafe-eval).
  await waitUntil(async () => (await page.getByTestId('frame').count()) > frames);
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms: ${condition.toString()}`);
    await page.waitForTimeout(100);
  }
}

const newestFrame = () => page.getByTestId('frame').first();

beforeAll(async () => {
  graph = await openTestGraph();
  const { problems, summary } = await importLines(graph, room.events.filter((event) => event !== events.gap));
  expect(problems).toEqual([]);
  expect([summary.rejected, summary.softFailed, summary.statePending]).toEqual([1, 1, 2]);
  expect(summary.stored).toBe(21);
  const second = await importLines(graph, servers.events);
  expect([second.problems, second.summary.stored, second.summary.rejected]).toEqual([[], 11, 0]);
  browser = await launchChromium();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
});

afterAll(async () => {
  await browser?.close();
  await graph?.driver.close();
});

test('the connect link connects with no form, applies the room style and opens the guide for the imported room', async () => {
  await page.goto(browserUrl());
  await page.getByTestId('carousel').waitFor({ timeout: 60_000 });
  // What post_connect_cmd ran, the guide on top; the welcome and connect frames were cleared.
  const commands = await page.getByTestId('frameCommand').allTextContents();
  expect(commands[0]).toBe(`:play ${guideUrl()}`);
  expect([...commands].sort()).toEqual([':config autoComplete: false', `:play ${guideUrl()}`, `:style ${styleUrl()}`]);
  await expect(page.getByTestId('password').count()).resolves.toBe(0);
  await expect(page.getByText('we collect information on product usage').count()).resolves.toBe(0);
  const params = await page.locator('[data-testid="carousel"] pre[data-query="params"]').textContent();
  expect(params).toContain(`:param room_id => '${room.roomId}';`);
  // Only room_id names the room: the event parameters are null, so each query takes its events from that room.
  expect(params).toContain(':param latest_events => null;');
  expect(params).toContain(':param event_id => null;');
  await expect(page.locator('[data-testid="carousel"] pre[data-query="room"]').allTextContents()).resolves.toEqual([`:param room_id => '${servers.roomId}'`]);
  await page.screenshot({ path: join(DOCS, 'explore-guide.png') });
});

test('the guide sets the parameters and draws the newest events, captioned by type and sender, coloured by kind', async () => {
  await runGuideBlock('params');
  // One line a parameter, each checked off once Browser has set it; the queries may run only after the last.
  const lines = (await page.locator('[data-testid="carousel"] pre[data-query="params"]').textContent())!.trim().split('\n');
  const done = newestFrame().locator('[data-testid="multi-statement-list-icon"] .fa-check-square-o');
  await waitUntil(async () => (await done.count()) === lines.length);
  await expect(newestFrame().getByTestId('multi-statement-list-title').allTextContents()).resolves.toEqual(lines.map((line) => line.replace(/;$/, '')));
  const count = Number(/^:param count => (\d+);$/m.exec(lines.join('\n'))![1]);
  await page.getByTestId('nextSlide').click();
  await runGuideBlock('newest-events');
  const nodes = newestFrame().locator('svg g.node');
  await nodes.first().waitFor();

  const { records } = await graph.driver.executeQuery(QUERIES['queries/newest-events'], { room_id: room.roomId, count: neo4j.int(count) });
  const ends = records.flatMap((record) => [(record.get('path') as Path).start, (record.get('path') as Path).end]);
  const byId = new Map<string, Node>(ends.map((node) => [node.properties.event_id as string, node]));
  const expected: DrawnNode[] = [...byId.values()].map((node) => (
    { caption: captionFor(node), fill: fillFor(node.labels), stroke: styleFor(node.labels, 'border-color') }));
  // Every stored event of the room (the placeholder is not drawn): 21, of every kind, one of them redacted.
  expect(byId.size).toBe(21);
  expect(new Set([...byId.values()].flatMap((node) => node.labels))).toEqual(new Set(
    ['Event', 'Create', 'Membership', 'PowerLevels', 'StateEvent', 'Message', 'Rejected', 'SoftFailed', 'StatePending', 'Redacted', 'Extremity'],
  ));
  expect(expected.filter((node) => node.caption.startsWith('[redacted] '))).toEqual([
    { caption: '[redacted] m.room.message @bob:hs2.test', fill: fillFor(['Event', 'Message']), stroke: '#111111' },
  ]);

  await expect(nodes.count()).resolves.toBe(21);
  // Only the PREV_EVENT edges the query returned: Browser does not add the AUTH_EVENT edges between the nodes.
  await expect(newestFrame().locator('svg g.relationship').count()).resolves.toBe(records.length);
  const drawn: DrawnNode[] = await nodes.evaluateAll((gs) => (gs as unknown as DomElement[]).map((g) => ({
    caption: Array.from(g.querySelectorAll('text.caption')).map((t) => (t.textContent ?? '').trim()).join(' '),
    fill: g.querySelector('circle.b-outline')?.getAttribute('fill') ?? '',
    stroke: g.querySelector('circle.b-outline')?.getAttribute('stroke') ?? '',
  })));
  expect(drawn.sort(byCaptionAndFill)).toEqual(expected.sort(byCaptionAndFill));
  // One colour per kind, the rejected topic red, the soft-failed message pink: not one pink for every event.
  expect(new Set(drawn.map((node) => node.fill)).size).toBe(7);

  await newestFrame().getByTitle('Fullscreen').click();
  // Fit the drawing to the larger frame, so the captions can be read in the screenshot.
  await newestFrame().getByLabel('zoom-to-fit').click();
  await page.waitForTimeout(1500);
  await page.screenshot({ path: join(DOCS, 'explore-dag.png') });
  await newestFrame().getByTitle('Close fullscreen').click();
});

test('a table query of the guide shows the same rows as the driver', async () => {
  await page.getByTestId('nextSlide').click();
  await runGuideBlock('events-per-sender');
  const { records } = await graph.driver.executeQuery(QUERIES['queries/events-per-sender'], { room_id: room.roomId });
  // Browser's table: a row number, then each value as JSON (strings quoted).
  const expected = records.map((record, row) => [String(row + 1), ...record.keys.map((key) => {
    const value = record.get(key) as unknown;
    return neo4j.isInt(value) ? value.toString() : JSON.stringify(value);
  })]);
  const rows = newestFrame().locator('table tbody tr');
  await rows.first().waitFor();
  const shown = await rows.evaluateAll((trs) => (trs as unknown as DomElement[]).map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => (td.textContent ?? '').trim())));
  expect(shown).toEqual(expected);
  await page.screenshot({ path: join(DOCS, 'explore-table.png') });
});

test('another room: room_id alone switches every query to it; long server names are drawn whole; an event of the first room is said to be there', async () => {
  await page.getByTestId('previousSlide').click();
  await page.getByTestId('previousSlide').click();
  await runGuideBlock('room');
  await waitUntil(async () => (await newestFrame().textContent())?.includes(servers.roomId) ?? false);
  await page.getByTestId('nextSlide').click();
  await runGuideBlock('newest-events');
  const nodes = newestFrame().locator('svg g.node');
  await nodes.first().waitFor();
  const drawn = await nodes.evaluateAll((gs) => (gs as unknown as DomElement[]).map((g) =>
    Array.from(g.querySelectorAll('text.caption')).map((t) => (t.textContent ?? '').trim()).join(' ')));
  // The 11 events of the second room, none cut short ("…"), each as the style's caption reads.
  expect(drawn.sort()).toEqual(servers.events.map((event) => `${event.type} ${event.pdu.sender as string}`).sort());

  // state-at-event with event_id left null: the second room's newest event's state, as the driver gives it.
  for (let slide = 2; slide < 6; slide++) await page.getByTestId('nextSlide').click();
  await runGuideBlock('state-at-event');
  const tableRows = async () => {
    const rows = newestFrame().locator('table tbody tr');
    await rows.first().waitFor();
    return rows.evaluateAll((trs) => (trs as unknown as DomElement[]).map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => (td.textContent ?? '').trim())));
  };
  const newest = servers.events.at(-1)!;
  const { records } = await graph.driver.executeQuery(QUERIES['queries/state-at-event'], { room_id: servers.roomId, event_id: newest.event_id });
  expect((await tableRows()).map((row) => row[3])).toEqual(records.map((record) => JSON.stringify(record.get('event_id'))));
  expect(records.map((record) => record.get('type'))).toEqual(['m.room.create', 'm.room.history_visibility', 'm.room.join_rules', 'm.room.member', 'm.room.member', 'm.room.member', 'm.room.member']);

  // An event of the first room, with room_id still the second: one row saying where it is.
  const other = events.tail!.event_id;
  await runCommand(`:param event_id => '${other}'`);
  await runGuideBlock('state-at-event');
  expect((await tableRows()).map((row) => row.slice(1, 3))).toEqual([
    [JSON.stringify(`event ${other} is in room ${room.roomId}, not ${servers.roomId} (set event_id to null for this room's newest event)`), 'null'],
  ]);
});

/** Types a command into Browser's editor and runs it, as an analyst would; waits for its frame. */
async function runCommand(command: string): Promise<void> {
  const frames = await page.getByTestId('frame').count();
  await page.locator('#monaco-main-editor').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type(command);
  await page.getByTestId('editor-Run').click();
  await waitUntil(async () => (await page.getByTestId('frame').count()) > frames);
}
