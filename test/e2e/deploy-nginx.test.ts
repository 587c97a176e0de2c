/**
 * The files deploy/nginx/ ships, as an operator installs them: federation.conf (with the test certificate in place
 * of the Let's Encrypt paths, and the location file where it says to put it) inside an http block passes Debian's
 * `nginx -t`; and the location's proxy_pass names no URI, so nginx passes the signed request URI unchanged
 * (catch-up.test.ts runs the location file itself in front of a real Synapse).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { LOCATION_FILE, NGINX } from './helpers/nginx';

const run = promisify(execFile);
const DEPLOY = resolve(__dirname, '..', '..', 'deploy', 'nginx');
const TLS_DIR = resolve(__dirname, '..', 'fixtures', 'tls');

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'maxtryx-deploy-nginx-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('federation.conf with get-missing-events.conf passes nginx -t', async () => {
  await mkdir(join(dir, 'snippets'));
  await mkdir(join(dir, 'logs'));
  await writeFile(join(dir, 'snippets', 'get-missing-events.conf'), await readFile(LOCATION_FILE));
  const example = (await readFile(join(DEPLOY, 'federation.conf'), 'utf8'))
    .replace('/etc/letsencrypt/live/example.org/fullchain.pem', join(TLS_DIR, 'localhost.crt'))
    .replace('/etc/letsencrypt/live/example.org/privkey.pem', join(TLS_DIR, 'localhost.key'))
    .replaceAll('/etc/nginx/snippets/', `${join(dir, 'snippets')}/`);
  // Every path an operator must adapt was replaced (comments aside).
  expect(example.split('\n').map((line) => line.replace(/#.*/, '')).filter((line) => line.includes('/etc/'))).toEqual([]);
  await writeFile(join(dir, 'federation.conf'), example);
  await writeFile(join(dir, 'nginx.conf'), `pid ${join(dir, 'nginx.pid')};\nevents {}\nhttp {\n  include ${join(dir, 'federation.conf')};\n}\n`);
  const { stderr } = await run(NGINX, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'logs', 'error.log')]);
  expect(stderr).toContain('test is successful');
});

test('the get_missing_events location proxies to the maxtryx upstream with no URI part', async () => {
  const location = await readFile(LOCATION_FILE, 'utf8');
  const directives = location.split('\n').map((line) => line.replace(/#.*/, '').trim()).filter((line) => line !== '');
  expect(directives[0]).toBe('location ~ ^/_matrix/federation/v1/get_missing_events/ {');
  expect(directives.filter((line) => line.startsWith('proxy_pass '))).toEqual(['proxy_pass http://maxtryx;']);
  expect(directives.filter((line) => /^(rewrite|proxy_redirect)\b/.test(line))).toEqual([]);
  expect(directives).toEqual(expect.arrayContaining(['proxy_set_header Host $host;', 'proxy_set_header X-Forwarded-For $remote_addr;', 'client_max_body_size 1m;']));
});
