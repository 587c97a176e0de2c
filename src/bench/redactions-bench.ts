/**
 * What applying redactions costs the importer (issue 19, item 7): two v11 rooms of the same shape and size, one
 * where every third event is an m.room.redaction (alice's of an earlier message, or bob's of a message of
 * another server, which does not apply), the other with a message in each of those places. Each is imported
 * `runs` times into a fresh room (alternating, so a busy host slows both alike) and deleted afterwards; prints the
 * events/s of each and how many redactions applied. The rooms come from fixed seeds.
 *
 *   node dist/src/bench/redactions-bench.js [--events 3000] [--runs 2]
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { deleteRoom } from '../fuzz/graph-fingerprint';
import { RoomBuilder } from '../generator/room-builder';
import { Importer } from '../importer/importer';
import { connectGraph } from '../store/connect';
import { EventStore } from '../store/event-store';
import { applySchema, type Graph } from '../store/neo4j';
import { loadCypher } from '../store/cypher-files';

const ALICE = '@alice:hs1.test';
const BOB = '@bob:hs2.test';
const QUERIES = loadCypher(['queries/redactions']);

/** The room's lines: create, joins, power levels, then `events` more, every third a redaction when `redacting`. */
export function redactionsRoom(events: number, redacting: boolean, seed: string): { roomId: string; lines: string[] } {
  const r = new RoomBuilder('11', seed);
  r.create(ALICE);
  r.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
  r.add({ type: 'm.room.power_levels', state_key: '', sender: ALICE, content: { users: { [ALICE]: 100 } } });
  r.add({ type: 'm.room.join_rules', state_key: '', sender: ALICE, content: { join_rule: 'public' } });
  r.add({ type: 'm.room.member', state_key: BOB, sender: BOB, content: { membership: 'join' } });
  const messages: string[] = [];
  for (let i = 0; i < events; i++) {
    const sender = i % 2 === 0 ? ALICE : BOB;
    if (redacting && i % 3 === 2) {
      // Alice may redact anything; bob's redaction of an earlier message of alice's server does not apply.
      const target = messages[Math.floor(messages.length / 2)]!;
      r.add({ type: 'm.room.redaction', sender, content: { redacts: target } });
    } else {
      messages.push(r.add({ type: 'm.room.message', sender, content: { msgtype: 'm.text', body: `message ${i}` } }).event_id);
    }
  }
  return { roomId: r.roomId, lines: r.events.map((event) => JSON.stringify(event.pdu)) };
}

async function importRoom(store: EventStore, lines: readonly string[]): Promise<number> {
  const started = process.hrtime.bigint();
  const importer = new Importer(store);
  await importer.importLines(lines, 'bench');
  await importer.finish();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function applied(graph: Graph, roomId: string): Promise<number> {
  const { records } = await graph.driver.executeQuery(QUERIES['queries/redactions'], { room_id: roomId }, { database: graph.database });
  return records.filter((record) => record.get('outcome') === 'applied').length;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { events: { type: 'string', default: '3000' }, runs: { type: 'string', default: '2' } } });
  const events = Number(values.events);
  const { graph, close } = await connectGraph(loadConfig(process.env).neo4j);
  try {
    await applySchema(graph);
    const store = new EventStore(graph);
    for (let run = 1; run <= Number(values.runs); run++) {
      for (const redacting of [true, false]) {
        const { roomId, lines } = redactionsRoom(events, redacting, `bench/redactions/${redacting}/${run}/${Date.now()}`);
        const seconds = await importRoom(store, lines);
        const count = redacting ? await applied(graph, roomId) : 0;
        console.log(`run ${run} ${redacting ? 'with redactions   ' : 'without redactions'}: ${lines.length} events in ` +
          `${seconds.toFixed(2)} s, ${Math.round(lines.length / seconds)} events/s${redacting ? `, ${count} applied` : ''}`);
        await deleteRoom(graph, roomId);
      }
    }
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
