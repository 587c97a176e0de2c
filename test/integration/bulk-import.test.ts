/**
 * `maxtryx import --bulk` (neo4j-admin database import into an empty database) must leave exactly the graph the
 * graph importer leaves from the same lines: the same nodes with the same labels and properties (states, rejected,
 * soft-failed, pending and placeholder events included), the same relationships, the same counts in its summary.
 *
 * The same shuffled lines (three rooms of room versions 10, 12 and 1 with state conflicts, a room with rejected,
 * soft-failed and pending events, a duplicate line, a line whose content hash does not match, a line that is not
 * JSON, and a room whose state keys and contents hold what CSV and neo4j-admin's lists must escape: the list
 * delimiter U+001F, quotes, commas, line breaks, an empty state key) go through the graph importer into the shared test Neo4j, and through the built import command with --bulk
 * into a throw-away Neo4j of this test's own, both in batches of 7 so that events wait across batches. Then: a
 * second bulk import into the now non-empty database is refused and changes nothing; and the missing event, imported
 * afterwards by the graph importer into both, completes the pending events the same way in both.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteRoom } from '../../src/fuzz/graph-fingerprint';
import { snapshotState } from '../../src/core/room-state';
import { generateRoom } from '../../src/generator/generate-room';
import { RoomBuilder, type BuiltEvent } from '../../src/generator/room-builder';
import { PROJECT_ROOT } from '../../src/paths';
import { applySchema, openGraph, type Graph } from '../../src/store/neo4j';
import { buildDist } from '../helpers/build';
import { ALICE, buildEveryKindRoom } from '../helpers/every-kind-room';
import { freePorts } from '../helpers/free-ports';
import { importLines, openTestGraph } from '../helpers/graph';
import { neo4jScript } from '../helpers/neo4j-script';
import { difference, roomFingerprint } from '../helpers/room-fingerprint';
import { addRedaction } from '../helpers/redaction-event';
import { queryGraph, shuffled } from '../helpers/room-graph';
import type { ImportSummary } from '../../src/importer/importer';

const IMPORT = join(PROJECT_ROOT, 'dist', 'src', 'cli', 'import.js');
const BATCH = 7;

let dir: string;
let home: string;
let file: string;
let shared: Graph;
let bulk: Graph;
let roomIds: string[];
let gap: BuiltEvent;
let redactedId: string;
let graphSummary: ImportSummary;
let bulkRun: { code: number; stderr: string };
/** Distinct events in the input, and the number of its last line (not JSON). */
let distinct: number;
let lastLine: number;

function runImport(args: readonly string[]): Promise<{ code: number; stderr: string }> {
  const env = { ...process.env };
  delete env.NEO4J_URI;
  return new Promise((resolve) => {
    execFile(process.execPath, [IMPORT, ...args], { cwd: PROJECT_ROOT, env, maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stderr });
    });
  });
}

/** The counts of the summary line the import command prints. */
function summaryCounts(stderr: string): Record<string, number> {
  const match = /Imported (\d+) new events \((\d+) already stored\) in (\d+) rooms; (\d+) lines skipped, (\d+) stored redacted for a content hash mismatch; (\d+) rejected, (\d+) soft-failed, (\d+) waiting for missing events/.exec(stderr);
  if (match === null) throw new Error(`no summary in:\n${stderr}`);
  const [stored, unchanged, rooms, skipped, hashMismatches, rejected, softFailed, statePending] = match.slice(1).map(Number) as number[];
  return { stored, unchanged, rooms, skipped, hashMismatches, rejected, softFailed, statePending } as Record<string, number>;
}

function countsOf(summary: ImportSummary): Record<string, number> {
  const { stored, unchanged, rooms, skipped, hashMismatches, rejected, softFailed, statePending } = summary;
  return { stored, unchanged, rooms, skipped, hashMismatches, rejected, softFailed, statePending };
}

/**
 * The empty state (before each create event) is one node that every room shares, holding the room_id of the room
 * that stored it first: which room that is depends on what the database held before and on the order of writes,
 * so the rooms' fingerprints leave its node out (the relationships to it stay in).
 */
const EMPTY_STATE = `"state_id":"${snapshotState(new Map(), () => undefined).state_id}"`;

async function fingerprints(graph: Graph): Promise<string[]> {
  const lines = (await Promise.all(roomIds.map((roomId) => roomFingerprint(graph, roomId)))).flat();
  return lines.filter((line) => !(line.startsWith('N State ') && line.includes(EMPTY_STATE))).sort();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'maxtryx-bulk-'));
  home = join(dir, 'neo4j');
  file = join(dir, 'rooms.jsonl');
  const everyKind = new RoomBuilder('10', 'bulk-import/every-kind');
  const named = buildEveryKindRoom(everyKind);
  gap = named.gap!;
  const rooms = [
    [...generateRoom({ events: 400, roomVersion: '10', seed: 'bulk-import/v10', servers: 3, conflicts: true })],
    [...generateRoom({ events: 300, roomVersion: '12', seed: 'bulk-import/v12', servers: 3, conflicts: true })],
    [...generateRoom({ events: 250, roomVersion: '1', seed: 'bulk-import/v1', servers: 2, conflicts: true })],
  ];
  const awkward = new RoomBuilder('10', 'bulk-import/awkward');
  awkward.create(ALICE);
  awkward.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
  for (const stateKey of ['a\u001fb', '\u001f', 'a\u001f', '"quoted", with a comma', 'two\nlines\r\n', '']) {
    awkward.add({ type: 'org.example.awkward', state_key: stateKey, sender: ALICE, content: { value: `${stateKey}\u001f"x"` } });
  }
  awkward.add({ type: 'm.room.message', sender: ALICE, content: { msgtype: 'm.text', body: '\u001f,"\n' } });
  // A redaction: both importers record it and, once the room is settled, serve its target pruned.
  redactedId = awkward.add({ type: 'm.room.message', sender: ALICE, content: { msgtype: 'm.text', body: 'to be redacted' } }).event_id;
  addRedaction(awkward, ALICE, redactedId);
  // The second event: a v12 create event carries no room_id.
  roomIds = [everyKind.roomId, awkward.roomId, ...rooms.map((events) => events[1]!.pdu.room_id as string)];
  const lines = [...everyKind.events.filter((event) => event !== gap), ...awkward.events, ...rooms.flat()].map((event) => JSON.stringify(event.pdu));
  // A message whose content was changed on the way: its hash does not match, so it is stored redacted.
  const tampered = rooms[0]!.find((event) => event.pdu.type === 'm.room.message')!;
  const index = lines.indexOf(JSON.stringify(tampered.pdu));
  lines[index] = JSON.stringify({ ...tampered.pdu, content: { msgtype: 'm.text', body: 'changed' } });
  const input = [...shuffled(lines, 'bulk-import'), lines[10]!, '{not json'];
  await writeFile(file, `${input.join('\n')}\n`);
  distinct = lines.length;
  lastLine = input.length;

  shared = await openTestGraph();
  for (const roomId of roomIds) await deleteRoom(shared, roomId);
  const viaGraph = await importLines(shared, input, 'rooms.jsonl', BATCH);
  graphSummary = viaGraph.summary;

  buildDist();
  const [bolt, http, guide] = await freePorts(3);
  await neo4jScript('ensureNeo4j', { home, boltPort: bolt, httpPort: http, guidePort: guide, ownerPid: process.pid }, 'bulk neo4j');
  bulkRun = await runImport(['--bulk', '--neo4j-home', home, '--batch-size', String(BATCH), file]);
  bulk = openGraph({ uri: `bolt://127.0.0.1:${bolt}` });
}, 300_000);

afterAll(async () => {
  await shared?.driver.close();
  await bulk?.driver.close();
  if (home) await neo4jScript('stopNeo4j', { home }, 'bulk neo4j');
  if (dir) await rm(dir, { recursive: true, force: true });
}, 120_000);

describe('maxtryx import --bulk', () => {
  it('reports the line it skipped and the counts the graph importer reports', () => {
    expect(bulkRun.stderr).toContain(`rooms.jsonl:${lastLine}: error: not JSON`);
    expect(bulkRun.code).toBe(1);
    expect(countsOf(graphSummary)).toEqual({
      stored: distinct, unchanged: 1, rooms: 5, skipped: 1, hashMismatches: 1, rejected: graphSummary.rejected,
      softFailed: graphSummary.softFailed, statePending: 2,
    });
    expect(graphSummary.rejected).toBeGreaterThan(0);
    expect(graphSummary.softFailed).toBeGreaterThan(0);
    expect(summaryCounts(bulkRun.stderr)).toEqual(countsOf(graphSummary));
  });

  it('records redactions as the graph importer does: the target is Redacted, the redaction applied', async () => {
    for (const graph of [shared, bulk]) {
      const found = await queryGraph<{ labels: string[]; outcome: string | null }>(
        graph,
        'MATCH (target:Event {event_id: $id}) OPTIONAL MATCH (redaction:Event)-[:REDACTS]->(target) RETURN labels(target) AS labels, redaction.redaction_outcome AS outcome',
        { id: redactedId },
      );
      expect(found.map((row) => ({ redacted: row.labels.includes('Redacted'), outcome: row.outcome }))).toEqual([{ redacted: true, outcome: 'applied' }]);
    }
  });

  it('leaves the graph the graph importer leaves, node for node and relationship for relationship', async () => {
    const viaGraph = await fingerprints(shared);
    const viaBulk = await fingerprints(bulk);
    expect({ onlyInBulk: difference(viaBulk, viaGraph).slice(0, 10), onlyViaGraph: difference(viaGraph, viaBulk).slice(0, 10) }).toEqual({
      onlyInBulk: [],
      onlyViaGraph: [],
    });
    expect(viaBulk.length).toBe(viaGraph.length);
    const emptyState = (await Promise.all(roomIds.map((roomId) => roomFingerprint(bulk, roomId)))).flat().filter((line) => line.includes(EMPTY_STATE));
    expect(emptyState.filter((line) => line.startsWith('N '))).toHaveLength(1);
  });

  it('refuses to replace a database that holds rooms, and changes nothing', async () => {
    const before = await fingerprints(bulk);
    const nodes = before.filter((line) => line.startsWith('N ')).length + 1; // and the empty state
    const again = await runImport(['--bulk', '--neo4j-home', home, file]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(
      `import failed: The database holds ${nodes} nodes (5 rooms). A bulk import replaces the whole database: use \`maxtryx import\` ` +
        'without --bulk to add rooms to it, or --replace to replace everything in it.',
    );
    expect(await fingerprints(bulk)).toEqual(before);
  });

  it('takes later imports as the graph does: the missing event completes the pending ones', async () => {
    await applySchema(bulk);
    for (const graph of [shared, bulk]) {
      const { summary, problems } = await importLines(graph, [gap], 'gap.jsonl');
      expect(problems).toEqual([]);
      expect([summary.stored, summary.statePending]).toEqual([1, 0]);
    }
    const viaGraph = await fingerprints(shared);
    expect(difference(await fingerprints(bulk), viaGraph)).toEqual([]);
    expect(viaGraph.filter((line) => line.includes('StatePending'))).toEqual([]);
  });
});
