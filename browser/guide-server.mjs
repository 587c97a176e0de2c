// Serves the room guide and style to Neo4j Browser, next to the project's local Neo4j (scripts/neo4j.mjs starts it):
//   GET /guide.html   the guide (browser/guide.mjs), its parameters filled in from the database
//   GET /style.json   the Browser style (GraSS as JSON, browser/style.json)
// Browser fetches them from another origin with extra headers, so every answer carries CORS headers and OPTIONS
// preflights are answered. Plain Node, no npm dependencies, like scripts/neo4j.mjs.
//
//   node browser/guide-server.mjs <port> <neo4j-http-port | neo4j-http-url> [<neo4j-pid>]
//
// With a pid, the server exits once that process is gone, so it never outlives the Neo4j it serves. It listens on
// 127.0.0.1, or on GUIDE_HOST (docker-compose.yml's guide container sets 0.0.0.0 and publishes it on loopback).
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive } from '../scripts/neo4j.mjs';
import { cypherLiteral, guideHtml, parseQueryFile } from './guide.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const QUERIES_DIR = join(HERE, '..', 'cypher', 'queries');
const STYLE_PATH = join(HERE, 'style.json');
const HOST = '127.0.0.1';
const LISTEN_HOST = process.env.GUIDE_HOST || HOST;
// Neo4j Browser allows remote guides only from the hosts of browser.remote_content_hostname_whitelist, by name.
export const GUIDE_HOSTNAME = 'localhost';

export function readQueries(dir = QUERIES_DIR) {
  return readdirSync(dir).filter((file) => file.endsWith('.cypher')).sort()
    .map((file) => parseQueryFile(file.replace(/\.cypher$/, ''), readFileSync(join(dir, file), 'utf8')));
}

/** Neo4j's HTTP base URL from a port on this machine or a URL (`http://neo4j:7474` in docker-compose.yml). */
export function neo4jHttpBase(portOrUrl) {
  return /^\d+$/.test(String(portOrUrl)) ? `http://${HOST}:${portOrUrl}` : String(portOrUrl).replace(/\/+$/, '');
}

/** Runs one statement through Neo4j's HTTP API (authentication is off); resolves to rows of plain values. */
async function cypher(httpPort, statement, parameters = {}) {
  const response = await fetch(`${neo4jHttpBase(httpPort)}/db/neo4j/tx/commit`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ statements: [{ statement, parameters }] }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await response.json();
  if (body.errors?.length) throw new Error(body.errors[0].message);
  const [result] = body.results;
  return result.data.map(({ row }) => Object.fromEntries(result.columns.map((column, i) => [column, row[i]])));
}

/** How many more rooms the guide offers to switch to, the largest first (the rooms query lists them all). */
const OTHER_ROOMS = 10;

/**
 * Parameter values for the guide, read with the shipped queries themselves: the room with the most events. Only
 * room_id names a room: the event parameters stay null (the queries' examples), and each query then takes what it
 * needs from $room_id (its newest event, the state key of its newest event of $type), so changing room_id alone
 * explores another room.
 */
export async function readFacts(httpPort, queries) {
  const statement = (name) => queries.find((query) => query.name === name).statement;
  const rooms = await cypher(httpPort, statement('rooms'));
  const [room] = rooms;
  if (!room || room.events === 0) return { facts: {}, roomNote: 'The database holds no room yet: import one (npm run import), then play this guide again.' };
  const others = room.events === 1 ? '' : ` (${room.events} events)`;
  return {
    facts: { room_id: cypherLiteral(room.room_id) },
    roomNote: `The room is the one with the most events, ${room.room_id}${others}.`,
    otherRooms: rooms.slice(1, 1 + OTHER_ROOMS),
  };
}

const ALLOWED_HEADERS = 'pragma, cache-control, content-type, accept';

function send(res, status, type, body, allowHeaders = ALLOWED_HEADERS) {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'GET, HEAD, OPTIONS',
    // Browser asks with pragma and cache-control headers, which need a preflight; when its Sentry instrumentation
    // is on (it is, when the page reached Sentry's script) it adds sentry-trace and baggage too, and a preflight
    // that does not allow them fails the guide and the style ("Failed to fetch"). Everything here is public and
    // read-only, so the preflight allows whatever headers it is asked about.
    'access-control-allow-headers': allowHeaders,
    'access-control-max-age': '600',
  });
  res.end(body);
}

/** The request handler; `port` is its own port, to link the style from the guide. */
export function guideHandler({ neo4jHttpPort, port, log = () => {} }) {
  const styleUrl = `http://${GUIDE_HOSTNAME}:${port}/style.json`;
  return async (req, res) => {
    const path = new URL(req.url ?? '/', `http://${HOST}`).pathname;
    if (req.method === 'OPTIONS') return send(res, 204, 'text/plain', '', req.headers['access-control-request-headers'] || ALLOWED_HEADERS);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'GET only\n');
    try {
      if (path === '/style.json') return send(res, 200, 'application/json', readFileSync(STYLE_PATH));
      if (path === '/guide.html' || path === '/') {
        const queries = readQueries();
        let known;
        try {
          known = await readFacts(neo4jHttpPort, queries);
        } catch (error) {
          log(`guide: could not read the database (${error.message}); the guide shows the example parameters`);
          known = { facts: {}, roomNote: 'Neo4j did not answer, so these are example values: set your own room ID.' };
        }
        return send(res, 200, 'text/html; charset=utf-8', guideHtml({ queries, ...known, styleUrl }));
      }
      return send(res, 404, 'text/plain', 'Not found: /guide.html and /style.json are served here.\n');
    } catch (error) {
      log(`guide: ${error.stack ?? error}`);
      return send(res, 500, 'text/plain', 'The guide could not be built; see the guide server log.\n');
    }
  };
}

/** Starts the server on 127.0.0.1:port (GUIDE_HOST:port); resolves to the http.Server once it listens. */
export function startGuideServer({ port, neo4jHttpPort, log }) {
  const server = http.createServer(guideHandler({ neo4jHttpPort, port, log }));
  return new Promise((resolveListening, reject) => {
    server.once('error', reject);
    server.listen({ host: LISTEN_HOST, port }, () => resolveListening(server));
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [port, neo4jHttpPort, pid] = process.argv.slice(2).map((arg) => (/^\d+$/.test(arg) ? Number(arg) : arg));
  const log = (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  startGuideServer({ port, neo4jHttpPort, log }).then(() => {
    log(`guide: serving http://${GUIDE_HOSTNAME}:${port}/guide.html for the Neo4j at ${neo4jHttpBase(neo4jHttpPort)}`);
    if (pid) {
      setInterval(() => {
        if (!alive(pid)) process.exit(0);
      }, 1000);
    }
  }, (error) => {
    log(`guide: cannot listen on ${LISTEN_HOST}:${port} (${error.code ?? error.message})`);
    process.exit(1);
  });
}
