/**
 * Reading an event with a huge prev_events list (issue 19, item 8): one line of `count` distinct prev_events
 * (20,000 make a line of about 0.94 MB), timed through readPdu alone and through a whole import of a room of
 * create, join and that line into the Neo4j in use. Prints milliseconds and what the importer said of the line.
 *
 *   node dist/src/bench/huge-references-bench.js [--count 20000]
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { readPdu } from '../core/pdu';
import { getRoomVersion } from '../core/room-versions';
import { RoomBuilder } from '../generator/room-builder';
import { Importer, type ImportProblem } from '../importer/importer';
import { connectGraph } from '../store/connect';
import { EventStore } from '../store/event-store';
import { applySchema } from '../store/neo4j';

const ALICE = '@alice:hs1.test';

/** A room of create and join, and the line of a message naming `count` made-up prev_events (and the join). */
export function hugeReferencesRoom(count: number, seed: string): { lines: string[]; huge: string } {
  const builder = new RoomBuilder('10', seed);
  builder.create(ALICE);
  const join = builder.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
  const message = builder.add({ type: 'm.room.message', sender: ALICE, content: { msgtype: 'm.text', body: 'huge' }, prev: [join] });
  const prevEvents = [join.event_id, ...Array.from({ length: count - 1 }, (_, i) => `$${String(i).padStart(43, 'A')}`)];
  const huge = JSON.stringify({ ...message.pdu, prev_events: prevEvents });
  return { lines: builder.events.slice(0, 2).map((event) => JSON.stringify(event.pdu)), huge };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { count: { type: 'string', default: '20000' } } });
  const count = Number(values.count);
  const { lines, huge } = hugeReferencesRoom(count, `bench/huge-references/${count}/${Date.now()}`);
  const version = getRoomVersion('10')!;
  let started = process.hrtime.bigint();
  const read = readPdu(huge, JSON.parse(huge) as Record<string, unknown>, version);
  const readMs = Number(process.hrtime.bigint() - started) / 1e6;

  const { graph, close } = await connectGraph(loadConfig(process.env).neo4j);
  try {
    await applySchema(graph);
    const problems: ImportProblem[] = [];
    const importer = new Importer(new EventStore(graph), { onProblem: (problem) => problems.push(problem) });
    started = process.hrtime.bigint();
    await importer.importLines([...lines, huge], 'huge');
    const summary = await importer.finish();
    const importMs = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(JSON.stringify({
      count, lineBytes: Buffer.byteLength(huge), readPduMs: readMs, readPdu: read.ok ? 'read' : read.reason,
      importMs, stored: summary.stored, skipped: summary.skipped, problems: problems.map((p) => p.message),
    }));
  } finally {
    await close();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
