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
const QUERIES = loadCypher(['queries/newest-events', 'queries/events-per-sender']);
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
const redaction = addRedaction(room, ALICE, events.b2!.event_id, [events.tail!]);
const browserUrl = () => process.env.TEST_BROWSER_URL!;
const guideUrl = () => process.env.TEST_GUIDE_URL!;
const styleUrl = () => guideUrl().replace(/guide\.html$/, 'style.json');

/** Clicks a runnable block of the guide (it fills the editor), runs it, and waits for its frame. */
async function runGuideBlock(query: string): Promise<void> {
  const frames = await page.getByTestId('frame').count();
  await page.locator(`[data-testid="carousel"] pre[data-query="${query}"]`).click();
  await page.getByTestId('editor-Run').click();
  await page.waitForFunction(`document.querySelectorAll('[data-testid="frame"]').length > ${frames}`);
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
  expect(params).toContain(`:param latest_events => ['${redaction.event_id}'];`);
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
    ['Event', 'Create', 'Membership', 'PowerLevels', 'StateEvent', 'Message', 'Rejected', 'SoftFailed', 'StatePending', 'Redacted'],
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
