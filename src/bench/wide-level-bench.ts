/**
 * The walk's cost on one wide level (issue 19, item 8): a room whose walk's first level is `width` events wide,
 * reached from `width / 20 * copies` latest_events that each name 20 of them in prev_events (`copies` times over,
 * so the level's de-duplication has work to do). Prints PROFILE database hits and wall-clock milliseconds per
 * walk (p50, mean) at limit 20. The room is generated from a fixed seed and imported once, so two checkouts of
 * the project measure the same graph.
 *
 *   node dist/src/bench/wide-level-bench.js [--width 1000] [--copies 2] [--runs 20]
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { RoomBuilder, type BuiltEvent } from '../generator/room-builder';
import { Importer } from '../importer/importer';
import { connectGraph } from '../store/connect';
import { EventStore, type WalkRequest } from '../store/event-store';
import { applySchema } from '../store/neo4j';

const ALICE = '@alice:hs1.test';
const PREVS_PER_TIP = 20;

export interface WideLevelFigures {
  readonly width: number;
  readonly latestEvents: number;
  readonly returned: number;
  readonly dbHits: number;
  readonly p50Ms: number;
  readonly meanMs: number;
}

/** The room: create, alice's join, `width` messages on the join, and the tips that name them. */
export function wideLevelRoom(width: number, copies: number): { builder: RoomBuilder; tips: BuiltEvent[] } {
  const builder = new RoomBuilder('10', `bench/wide-level/${width}/${copies}`);
  builder.create(ALICE);
  const join = builder.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
  const level = Array.from({ length: width }, (_, i) =>
    builder.add({ type: 'm.room.message', sender: ALICE, content: { msgtype: 'm.text', body: `wide ${i}` }, prev: [join] }));
  const tips: BuiltEvent[] = [];
  const stride = PREVS_PER_TIP / copies;
  for (let start = 0; start < width; start += stride) {
    const prev = Array.from({ length: PREVS_PER_TIP }, (_, k) => level[(start + k) % width]!);
    tips.push(builder.add({ type: 'm.room.message', sender: ALICE, content: { msgtype: 'm.text', body: `tip ${start}` }, prev }));
  }
  return { builder, tips };
}

export async function benchWideLevel(store: EventStore, width: number, copies: number, runs: number): Promise<WideLevelFigures> {
  const { builder, tips } = wideLevelRoom(width, copies);
  if ((await store.roomVersions([builder.roomId])).size === 0) {
    const importer = new Importer(store);
    await importer.importLines(builder.events.map((event) => JSON.stringify(event.pdu)), 'wide-level');
    await importer.finish();
  }
  const request: WalkRequest = {
    room_id: builder.roomId, latest_events: tips.map((tip) => tip.event_id), earliest_events: [], min_depth: 0, limit: 20,
  };
  const returned = (await store.walk(request)).length;
  const dbHits = await store.walkDbHits(request);
  for (let i = 0; i < 3; i++) await store.walk(request);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    await store.walk(request);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  times.sort((a, b) => a - b);
  return {
    width, latestEvents: tips.length, returned, dbHits,
    p50Ms: times[Math.floor(times.length / 2)]!,
    meanMs: times.reduce((sum, t) => sum + t, 0) / times.length,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { width: { type: 'string', default: '1000' }, copies: { type: 'string', default: '2' }, runs: { type: 'string', default: '20' } },
  });
  const { graph, close } = await connectGraph(loadConfig(process.env).neo4j);
  try {
    await applySchema(graph);
    const figures = await benchWideLevel(new EventStore(graph), Number(values.width), Number(values.copies), Number(values.runs));
    console.log(JSON.stringify(figures));
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
