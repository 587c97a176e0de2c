/**
 * Request bodies whose Content-Encoding does not describe them (issue 19, item 14), on the real listener as main.ts
 * wires it: each gets 400 M_NOT_JSON naming the encoding, logged at info without a stack, never a 500. A body the
 * encoding does describe is decoded and goes on to authentication (401 here: it is not signed).
 */
import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { createLogger } from '../../src/logger';
import type { Graph } from '../../src/store/neo4j';
import { missingEventsPath, startTestService, type Reply, type TestService } from '../helpers/federation';
import { openTestGraph } from '../helpers/graph';

let graph: Graph;
let service: TestService;
const logged: string[] = [];

beforeAll(async () => {
  graph = await openTestGraph();
  const logger = createLogger('info', false, new Writable({ write: (chunk, _encoding, done) => void (logged.push(String(chunk)), done()) }));
  service = await startTestService({ graph, logger });
});

afterAll(async () => {
  await service?.close();
  await graph?.driver.close();
});

const PATH = missingEventsPath('!room:hs1.test');
const JSON_BODY = Buffer.from('{"latest_events":["$a"],"limit":1}');

/** The body's bytes as they are, with the given Content-Encoding. */
function post(contentEncoding: string, body: Buffer): Promise<Reply> {
  const { port } = new URL(service.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: Number(port), method: 'POST', path: PATH, agent: false, headers: { 'content-encoding': contentEncoding } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as unknown, text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function notJson(error: string) {
  const json = { errcode: 'M_NOT_JSON', error };
  return { status: 400, json, text: JSON.stringify(json) };
}

describe('a body its Content-Encoding does not describe', () => {
  const gzip = gzipSync(JSON_BODY);
  const cases: [string, string, Buffer, string][] = [
    ['bytes that are not gzip', 'gzip', Buffer.from('not gzip at all'), 'The request body is not valid gzip data: it is corrupt'],
    ['truncated gzip', 'gzip', gzip.subarray(0, gzip.length - 6), 'The request body is not valid gzip data: it ends too soon'],
    ['bytes that are not deflate', 'deflate', Buffer.from('not deflate'), 'The request body is not valid deflate data: it is corrupt'],
    ['truncated br', 'br', brotliCompressSync(JSON_BODY).subarray(0, 3), 'The request body is not valid br data: it ends too soon'],
    ['bytes that are not br', 'br', Buffer.from('not brotli at all'), 'The request body is not valid br data: it is corrupt'],
    ['an unknown encoding', 'x-unknown', JSON_BODY, 'The request\'s Content-Encoding "x-unknown" is not supported; send the body as identity, gzip, deflate or br'],
    ['two encodings', 'gzip, gzip', gzip, 'The request\'s Content-Encoding "gzip, gzip" is not supported; send the body as identity, gzip, deflate or br'],
  ];

  it.each(cases)('%s: 400 M_NOT_JSON naming it, logged at info without a stack', async (_name, encoding, body, error) => {
    logged.length = 0;
    expect(await post(encoding, body)).toEqual(notJson(error));
    const lines = logged.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.filter((line) => line.level !== 'info')).toEqual([]);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'info', message: 'request body does not decode', reason: error }));
    expect(lines).toContainEqual(expect.objectContaining({ level: 'info', message: 'request', status: 400, errcode: 'M_NOT_JSON' }));
    expect(logged.join('\n')).not.toMatch(/\n\s+at /);
  });
});

describe('a body its Content-Encoding describes', () => {
  it.each([
    ['gzip', gzipSync(JSON_BODY)],
    ['deflate', deflateSync(JSON_BODY)],
    ['br', brotliCompressSync(JSON_BODY)],
  ])('%s is decoded and goes on to authentication', async (encoding, body) => {
    const reply = await post(encoding, body);
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual({ errcode: 'M_UNAUTHORIZED', error: 'The request has no "Authorization: X-Matrix ..." header.' });
  });
});
