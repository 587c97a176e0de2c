/**
 * synapsePduLines (src/importer/synapse-source.ts) on SQLite files laid out as Synapse's tables, written with sql.js:
 * rooms chosen or all, depth order across pages, redactions and rejections read from their tables, and clear
 * errors for a missing file, a file that is not SQLite, a database that is not Synapse's, an unknown room and a
 * non-empty write-ahead log. The real Synapse is in test/synapse/.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import initSqlJs from 'sql.js';
import { computeEventId, hashAndSignEvent } from '../../src/core/event-hashes';
import { generateSigningKey } from '../../src/core/signing';
import { getRoomVersion } from '../../src/core/room-versions';
import { SynapseSourceError, synapsePduLines } from '../../src/importer/synapse-source';

const KEY = generateSigningKey('unit');
const V10 = getRoomVersion('10')!;
const NOW = 1_700_000_100_000;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'synapse-source-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Row {
  readonly room: string;
  readonly depth: number;
  readonly stream: number;
  readonly body: string;
  readonly rejected?: string;
  readonly internal?: Record<string, unknown>;
}

interface Built {
  readonly path: string;
  /** Event IDs by body. */
  readonly ids: Map<string, string>;
}

async function synapseFile(name: string, rows: readonly Row[], redactions: readonly [string, string, boolean][] = []): Promise<Built> {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  db.run(`CREATE TABLE events(stream_ordering INTEGER PRIMARY KEY, topological_ordering BIGINT NOT NULL, event_id TEXT NOT NULL,
            type TEXT NOT NULL, room_id TEXT NOT NULL, outlier BOOL NOT NULL, depth BIGINT NOT NULL, sender TEXT, received_ts BIGINT);
          CREATE TABLE event_json(event_id TEXT NOT NULL, room_id TEXT NOT NULL, internal_metadata TEXT NOT NULL, json TEXT NOT NULL, format_version INTEGER);
          CREATE TABLE rooms(room_id TEXT PRIMARY KEY NOT NULL, room_version TEXT);
          CREATE TABLE rejections(event_id TEXT NOT NULL, reason TEXT NOT NULL, last_check TEXT NOT NULL);
          CREATE TABLE redactions(event_id TEXT NOT NULL, redacts TEXT NOT NULL, have_censored BOOL NOT NULL DEFAULT false, received_ts BIGINT, recheck BOOL NOT NULL DEFAULT true);`);
  const ids = new Map<string, string>();
  for (const room of new Set(rows.map((row) => row.room))) db.run('INSERT INTO rooms VALUES (?, ?)', [room, '10']);
  for (const row of rows) {
    const event = {
      ...hashAndSignEvent(
        {
          type: 'm.room.message', room_id: row.room, sender: '@alice:hs1.test', origin_server_ts: 1_700_000_000_000 + row.stream,
          depth: row.depth, prev_events: [], auth_events: [], content: { msgtype: 'm.text', body: row.body },
        },
        V10, 'hs1.test', KEY,
      ),
      unsigned: { age_ts: NOW - 1000 },
    };
    const eventId = computeEventId(event, V10)!;
    ids.set(row.body, eventId);
    db.run('INSERT INTO events VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)', [row.stream, row.depth, eventId, 'm.room.message', row.room, row.depth, '@alice:hs1.test', 1_700_000_000_000 + row.stream]);
    db.run('INSERT INTO event_json VALUES (?, ?, ?, ?, 3)', [eventId, row.room, JSON.stringify(row.internal ?? {}), JSON.stringify(event)]);
    if (row.rejected !== undefined) db.run('INSERT INTO rejections VALUES (?, ?, ?)', [eventId, row.rejected, '0']);
  }
  for (const [redaction, redacted, recheck] of redactions) {
    db.run('INSERT INTO redactions (event_id, redacts, recheck) VALUES (?, ?, ?)', [redaction, ids.get(redacted)!, recheck ? 1 : 0]);
  }
  const path = join(dir, name);
  writeFileSync(path, db.export());
  db.close();
  return { path, ids };
}

async function collect(source: string, rooms: readonly string[], pageSize?: number): Promise<{ lines: Record<string, unknown>[]; skipped: string[] }> {
  const lines: Record<string, unknown>[] = [];
  const skipped: string[] = [];
  for await (const line of synapsePduLines(source, rooms, { now: () => NOW, pageSize, onSkip: (id, reason) => skipped.push(`${id}: ${reason}`) })) {
    lines.push(JSON.parse(line) as Record<string, unknown>);
  }
  return { lines, skipped };
}

const bodies = (lines: Record<string, unknown>[]): unknown[] => lines.map((line) => (line.content as { body?: unknown }).body ?? '(redacted)');

const ROOM_A = '!a:hs1.test';
const ROOM_B = '!b:hs1.test';
const ROWS: Row[] = [
  { room: ROOM_A, depth: 3, stream: 1, body: 'a3' },
  { room: ROOM_A, depth: 1, stream: 5, body: 'a1' },
  { room: ROOM_A, depth: 2, stream: 3, body: 'a2 second' },
  { room: ROOM_A, depth: 2, stream: 2, body: 'a2 first' },
  { room: ROOM_B, depth: 1, stream: 4, body: 'b1' },
  { room: ROOM_A, depth: 4, stream: 6, body: 'a4 rejected', rejected: 'auth_error' },
  { room: ROOM_A, depth: 5, stream: 7, body: 'a5 out of band', internal: { out_of_band_membership: true } },
];

test.each([undefined, 1, 2])('gives a room\'s events by depth, then stream order, across pages of %s', async (pageSize) => {
  const { path, ids } = await synapseFile(`order-${pageSize}.db`, ROWS);
  const { lines, skipped } = await collect(path, [ROOM_A], pageSize);
  expect(bodies(lines)).toEqual(['a1', 'a2 first', 'a2 second', 'a3', 'a4 rejected']);
  expect(lines.every((line) => JSON.stringify(line.unsigned) === '{"age":1000}')).toBe(true);
  expect(skipped).toEqual([
    `${ids.get('a5 out of band')}: an out-of-band membership event (received outside the room), which Synapse does not serve for the room`,
  ]);
});

test('gives every room when none is named, each room in turn; a room named twice once', async () => {
  const { path } = await synapseFile('all.db', ROWS);
  expect(bodies((await collect(path, [])).lines)).toEqual(['a1', 'a2 first', 'a2 second', 'a3', 'a4 rejected', 'b1']);
  expect(bodies((await collect(path, [ROOM_B, ROOM_A, ROOM_B])).lines)).toEqual(['b1', 'a1', 'a2 first', 'a2 second', 'a3', 'a4 rejected']);
});

test('a redacted event is given pruned; an unconfirmed redaction whose redacting event is unknown does not apply', async () => {
  const { path } = await synapseFile('redactions.db', ROWS, [['$confirmed', 'a2 first', false], ['$unknown', 'a3', true]]);
  const { lines } = await collect(path, [ROOM_A]);
  expect(bodies(lines)).toEqual(['a1', '(redacted)', 'a2 second', 'a3', 'a4 rejected']);
  expect(lines[1]!.content).toEqual({});
});

test('an unconfirmed redaction applies when its redacting event is stored, accepted, from the same server', async () => {
  const rows: Row[] = [...ROWS, { room: ROOM_A, depth: 6, stream: 8, body: 'the redaction', internal: { recheck_redaction: true } }];
  const first = await synapseFile('unconfirmed.db', rows);
  const redaction = first.ids.get('the redaction')!;
  const { path } = await synapseFile('unconfirmed.db', rows, [[redaction, 'a3', true]]);
  expect(bodies((await collect(path, [ROOM_A])).lines)).toEqual(['a1', 'a2 first', 'a2 second', '(redacted)', 'a4 rejected', 'the redaction']);
});

describe('errors', () => {
  const fails = async (source: string, rooms: readonly string[], message: string) => {
    const error = await collect(source, rooms).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(SynapseSourceError);
    expect((error as Error).message).toBe(message);
  };

  test('a missing file', async () => {
    await fails(join(dir, 'nope.db'), [], `${join(dir, 'nope.db')}: no such file`);
  });

  test('a file that is not SQLite', async () => {
    const path = join(dir, 'text.db');
    writeFileSync(path, 'this is not a database, but it is long enough to have a header of one. '.repeat(10));
    await fails(path, [], `${path}: not an SQLite database (file is not a database)`);
  });

  test('an SQLite database that is not Synapse\'s', async () => {
    const SQL = await initSqlJs();
    const db = new SQL.Database();
    db.run('CREATE TABLE events(x); CREATE TABLE other(y)');
    const path = join(dir, 'other.db');
    writeFileSync(path, db.export());
    db.close();
    await fails(path, [], `${path}: not a Synapse database (no table event_json, rooms)`);
  });

  test('a room with no events, before any line is given', async () => {
    const { path } = await synapseFile('rooms.db', ROWS);
    await fails(path, [ROOM_A, '!unknown:hs1.test'], `${path}: no events of room !unknown:hs1.test`);
  });

  test('a write-ahead log that is not empty (Synapse running)', async () => {
    const { path } = await synapseFile('wal.db', ROWS);
    writeFileSync(`${path}-wal`, 'frames');
    await fails(
      path,
      [],
      `${path}: its write-ahead log ${path}-wal is not empty (is Synapse running?); stop Synapse, or run sqlite3 ${path} 'PRAGMA wal_checkpoint(TRUNCATE)', then import again`,
    );
    writeFileSync(`${path}-wal`, '');
    expect((await collect(path, [ROOM_B])).lines).toHaveLength(1);
  });

  test('a PostgreSQL server that does not answer', async () => {
    await fails('postgresql://synapse:secret@127.0.0.1:1/synapse', [], 'postgresql://synapse:***@127.0.0.1:1/synapse: cannot connect (connect ECONNREFUSED 127.0.0.1:1)');
  });
});
