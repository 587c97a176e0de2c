/**
 * The request log: one JSON line per request with a request ID, the origin, the room, the event counts and the
 * duration; never a key or a signature.
 */
import { PassThrough } from 'node:stream';
import { generateSigningKey } from '../../src/core/signing';
import { signRequest } from '../../src/core/x-matrix';
import { RoomBuilder } from '../../src/generator/room-builder';
import { createLogger } from '../../src/logger';
import { registerRoomKeys } from '../../src/service/demo-room';
import type { Graph } from '../../src/store/neo4j';
import { missingEventsPath, rawRequest, startTestService, type TestService } from '../helpers/federation';
import { importLines, openTestGraph } from '../helpers/graph';

let graph: Graph;
let service: TestService;
const lines: Record<string, unknown>[] = [];
const hs2Key = generateSigningKey('log1');

beforeAll(async () => {
  graph = await openTestGraph();
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    for (const text of chunk.toString('utf8').split('\n')) if (text.trim()) lines.push(JSON.parse(text));
  });
  service = await startTestService({ graph, logger: createLogger('info', false, stream) });
  await registerRoomKeys({ room_id: '!log:us.test', room_version: '10', servers: new Map([['hs2.test', hs2Key]]) }, service.keyStore, Date.now());
});

afterAll(async () => {
  await service?.close();
  await graph?.driver.close();
});

it('logs each request as one JSON line, with no key or signature in any line', async () => {
  const r = new RoomBuilder('10', 'request-log');
  r.create('@alice:hs1.test');
  r.add({ type: 'm.room.member', state_key: '@alice:hs1.test', sender: '@alice:hs1.test', content: { membership: 'join' } });
  r.add({ type: 'm.room.join_rules', state_key: '', sender: '@alice:hs1.test', content: { join_rule: 'public' } });
  r.add({ type: 'm.room.member', state_key: '@bob:hs2.test', sender: '@bob:hs2.test', content: { membership: 'join' } });
  const latest = r.add({ type: 'm.room.message', sender: '@bob:hs2.test', content: { body: 'hi' } });
  expect((await importLines(graph, r.events)).problems).toEqual([]);

  const path = missingEventsPath(r.roomId);
  const content = { latest_events: [latest.event_id], earliest_events: [r.events[0]!.event_id], limit: 5 };
  const authorization = signRequest({ method: 'POST', uri: path, origin: 'hs2.test', destination: service.serverName, content, key: hs2Key });
  const reply = await rawRequest({ url: service.url, method: 'POST', path, headers: { authorization }, body: JSON.stringify(content) });
  expect(reply.status).toBe(200);
  const denied = await rawRequest({ url: service.url, method: 'POST', path, headers: { authorization: `${authorization}x` }, body: JSON.stringify(content) });
  expect(denied.status).toBe(401);
  await new Promise((resolve) => setImmediate(resolve));

  const requests = lines.filter((line) => line.message === 'request');
  expect(requests.map(({ request_id, duration_ms, timestamp, ...rest }) => rest)).toEqual([
    {
      level: 'info',
      message: 'request',
      method: 'POST',
      path,
      status: 200,
      origin: 'hs2.test',
      room_id: r.roomId,
      latest_events: 1,
      earliest_events: 1,
      events: 3,
    },
    { level: 'info', message: 'request', method: 'POST', path, status: 401, errcode: 'M_UNAUTHORIZED' },
  ]);
  for (const line of requests) {
    expect(line.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof line.duration_ms).toBe('number');
  }
  const signature = /sig="([^"]+)"/.exec(authorization)![1]!;
  const everything = JSON.stringify(lines);
  expect(everything).not.toContain(signature);
  expect(everything).not.toContain(hs2Key.publicKey);
  expect(everything).not.toContain(authorization);
});
