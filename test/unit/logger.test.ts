/** The two log formats (LOG_FORMAT): JSON lines, and one readable line a record for a terminal. */
import { PassThrough } from 'node:stream';
import { createLogger, defaultLogFormat } from '../../src/logger';

async function logged(format: 'json' | 'pretty'): Promise<string> {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk) => (text += chunk));
  const logger = createLogger('info', false, stream, format);
  logger.info('listening', { url: 'http://127.0.0.1:8008', server_name: 'localhost:8008', endpoints: ['/health'], note: 'two words' });
  logger.info('shutting down', { signal: 'SIGINT' });
  await new Promise((resolve) => setImmediate(resolve));
  return text;
}

test('pretty: the time of day, the level, the message and key=value fields, strings as they are unless they need quotes', async () => {
  const lines = (await logged('pretty')).split('\n');
  expect(lines.map((line) => line.replace(/^\d\d:\d\d:\d\d /, 'TIME '))).toEqual([
    'TIME info  listening url=http://127.0.0.1:8008 server_name=localhost:8008 endpoints=["/health"] note="two words"',
    'TIME info  shutting down signal=SIGINT',
    '',
  ]);
});

test('json: one JSON object a line, "message":"shutting down" as log collectors search it', async () => {
  const lines = (await logged('json')).trim().split('\n');
  expect(lines[1]).toMatch(/^\{"level":"info","message":"shutting down","signal":"SIGINT","timestamp":"[^"]+"\}$/);
  expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info', message: 'listening', endpoints: ['/health'] });
});

test('pretty by default on a terminal, JSON otherwise', () => {
  expect([defaultLogFormat({ isTTY: true }), defaultLogFormat({ isTTY: false }), defaultLogFormat({})]).toEqual(['pretty', 'json', 'json']);
});
