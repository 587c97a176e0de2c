/**
 * GET /metrics for what the request counters do not show: server keys found in memory and fetched (the key
 * fetcher's counters, wired as main.ts wires them) and an import's totals, asserted line by line on the exposition.
 */
import { generateSigningKey } from '../../src/core/signing';
import { RoomBuilder } from '../../src/generator/room-builder';
import { createMetrics } from '../../src/http/metrics';
import { registerRoomKeys } from '../../src/service/demo-room';
import type { Graph } from '../../src/store/neo4j';
import { missingEventsPath, rawRequest, signedPost, startTestService } from '../helpers/federation';
import { importLines, openTestGraph } from '../helpers/graph';

const ALICE = '@alice:hs1.test';
let graph: Graph;

beforeAll(async () => {
  graph = await openTestGraph();
});

afterAll(async () => {
  await graph?.driver.close();
});

it('counts key cache hits, key fetches by outcome and the import totals', async () => {
  // A room of this run's own: the import totals count it as new even in a database an earlier run left it in.
  const room = new RoomBuilder('10', `ops-metrics/room/${process.pid}/${Date.now()}`);
  room.create(ALICE);
  room.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
  room.add({ type: 'm.room.message', sender: ALICE, content: { msgtype: 'm.text', body: 'one' } });
  const lines = [...room.events.map((event) => JSON.stringify(event.pdu)), 'not json'];
  const { summary } = await importLines(graph, lines);

  const metrics = createMetrics();
  metrics.recordImport(summary);
  const service = await startTestService({ graph, metrics });
  try {
    const identity = generateSigningKey('opsmetrics');
    await registerRoomKeys({ room_id: '!keys:us.test', room_version: '10', servers: new Map([['hs1.test', identity]]) }, service.keyStore, Date.now());
    const path = missingEventsPath(room.roomId);
    const body = { latest_events: [room.events[2]!.event_id] };
    for (let i = 0; i < 2; i++) {
      const reply = await signedPost({ url: service.url, path, origin: 'hs1.test', key: identity, destination: service.serverName, body });
      expect(reply.status).toBe(200);
    }
    // A server whose key is not known: one fetch, which fails (nothing listens on 127.0.0.1:9).
    const stranger = await signedPost({ url: service.url, path, origin: '127.0.0.1:9', key: generateSigningKey('x'), destination: service.serverName, body });
    expect([stranger.status, (stranger.json as { errcode: string }).errcode]).toEqual([401, 'M_UNAUTHORIZED']);

    const exposition = (await rawRequest({ url: service.opsUrl, method: 'GET', path: '/metrics' })).text.split('\n');
    expect(exposition).toContain('maxtryx_key_cache_hits_total 2');
    expect(exposition).toContain('maxtryx_key_fetches_total{outcome="ok"} 0');
    expect(exposition).toContain('maxtryx_key_fetches_total{outcome="failed"} 1');
    expect(exposition.filter((line) => line.startsWith('maxtryx_import_events_total{'))).toEqual([
      'maxtryx_import_events_total{outcome="stored"} 3',
      'maxtryx_import_events_total{outcome="unchanged"} 0',
      'maxtryx_import_events_total{outcome="skipped"} 1',
      'maxtryx_import_events_total{outcome="rejected"} 0',
      'maxtryx_import_events_total{outcome="soft_failed"} 0',
      'maxtryx_import_events_total{outcome="state_pending"} 0',
      'maxtryx_import_events_total{outcome="hash_mismatch"} 0',
    ]);
  } finally {
    await service.close();
  }
});
