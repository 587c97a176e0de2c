/**
 * Follow lag and follower CPU under a steady stream from a real Synapse 1.163 on our PostgreSQL (a benchmark: it
 * prints figures and asserts nothing about them). Run: npm run bench:follow (SECONDS=30 SENDERS=6 in the environment are the defaults).
 *
 * Senders in a child process PUT messages through hs-a's client API as fast as Synapse persists them (SENDERS at
 * once, into 3 rooms); this process runs only the follower (default options: 100 ms poll, 500-event pages), so its
 * CPU (process.cpuUsage) is the follower's: its SQL reads, the importer's states and the Neo4j writes' client side.
 * For each event: visible = when its page's transaction committed in Neo4j; lag = visible - events.received_ts
 * (set by Synapse when it received the PUT, just before persisting) and visible - the client's send response.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Follower } from '../../src/follow/follower';
import { createLogger } from '../../src/logger';
import { openTestGraph } from '../helpers/graph';
import { createHomeserver } from './helpers/homeserver';
import { MatrixUser } from './helpers/matrix-client';
import { startPostgres } from './helpers/postgres';
import { ensureSynapseVenv } from './helpers/synapse-venv';

const SECONDS = Number(process.env.SECONDS ?? 30);
const SENDERS = Number(process.env.SENDERS ?? 6);

/** The sender child: SENDERS loops of PUT send, each printing `event_id time` when its answer arrives. */
const SENDER_SCRIPT = `
const [clientUrl, token, rooms, senders, seconds] = process.argv.slice(1);
const roomIds = rooms.split(',');
const end = Date.now() + Number(seconds) * 1000;
let txn = 0;
async function loop(n) {
  while (Date.now() < end) {
    const room = roomIds[n % roomIds.length];
    txn += 1;
    const r = await fetch(clientUrl + '/_matrix/client/v3/rooms/' + encodeURIComponent(room) + '/send/m.room.message/b' + txn + '.' + Date.now(), {
      method: 'PUT', headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' },
      body: JSON.stringify({ msgtype: 'm.text', body: 'steady ' + n + ' ' + txn }),
    });
    const body = await r.json();
    const t = Date.now();
    if (body.event_id) process.stdout.write(body.event_id + ' ' + t + '\\n');
  }
}
Promise.all(Array.from({ length: Number(senders) }, (_, n) => loop(n))).then(() => process.exit(0));
`;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

test('follow lag and CPU under a steady stream', async () => {
  const venv = await ensureSynapseVenv((line) => process.stderr.write(`${line}\n`));
  const dir = await mkdtemp(join(tmpdir(), 'maxtryx-bench-follow-'));
  const pg = await startPostgres({ dir: join(dir, 'pg') });
  const url = await pg.createDatabase('synapse_bench');
  const hs = await createHomeserver({ python: venv.python, dir: join(dir, 'hs-a'), postgres: url });
  const graph = await openTestGraph();
  try {
    await hs.start();
    const a = await hs.register('alice');
    const alice = new MatrixUser(hs.clientUrl, a.userId, a.accessToken);
    const rooms = [await alice.createRoom({ preset: 'public_chat' }), await alice.createRoom({ preset: 'public_chat' }), await alice.createRoom({ preset: 'private_chat' })];

    const committed = new Map<string, { visible: number; received: number | null }>();
    const follower = new Follower({
      source: url, graph, logger: createLogger(process.env.FOLLOW_LOG_LEVEL ?? 'warn'), settleMs: Number(process.env.SETTLE_MS ?? 1000),
      onCommit: (lines, at) => {
        for (const line of lines) if (line.receivedTs !== null && line.streamOrdering > 0) committed.set(line.eventId, { visible: at, received: line.receivedTs });
      },
    });
    follower.start();
    await follower.caughtUp;

    const cpuBefore = process.cpuUsage();
    const eventsBefore = committed.size;
    const sentAt = new Map<string, number>();
    const started = Date.now();
    await new Promise<void>((done, fail) => {
      const child = spawn(process.execPath, ['-e', SENDER_SCRIPT, hs.clientUrl, a.accessToken, rooms.join(','), String(SENDERS), String(SECONDS)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let rest = '';
      child.stdout.on('data', (chunk: Buffer) => {
        const text = rest + chunk.toString('utf8');
        const lines = text.split('\n');
        rest = lines.pop()!;
        for (const line of lines) {
          const [eventId, time] = line.split(' ');
          sentAt.set(eventId!, Number(time));
        }
      });
      child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`senders exited with ${code}`))));
    });
    const sendSeconds = (Date.now() - started) / 1000;
    // Until every sent event is visible (a generous cap).
    const deadline = Date.now() + 120_000;
    while ([...sentAt.keys()].some((id) => !committed.has(id))) {
      if (Date.now() > deadline) throw new Error('the follower did not see every sent event within 120 s');
      await new Promise((done) => setTimeout(done, 50));
    }
    const cpu = process.cpuUsage(cpuBefore);
    const events = committed.size - eventsBefore;
    await follower.stop();

    const fromReceived = [...sentAt.keys()].map((id) => committed.get(id)!).map((c) => c.visible - c.received!).sort((x, y) => x - y);
    const fromResponse = [...sentAt].map(([id, t]) => committed.get(id)!.visible - t).sort((x, y) => x - y);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    process.stderr.write(
      `follow bench: ${sentAt.size} events in ${sendSeconds.toFixed(1)} s (${(sentAt.size / sendSeconds).toFixed(0)} events/s persisted by Synapse, ${SENDERS} senders, 3 rooms)\n` +
        `  lag visible in Neo4j - events.received_ts: median ${percentile(fromReceived, 50)} ms, p99 ${percentile(fromReceived, 99)} ms, max ${fromReceived[fromReceived.length - 1]} ms\n` +
        `  lag visible in Neo4j - client's send response: median ${percentile(fromResponse, 50)} ms, p99 ${percentile(fromResponse, 99)} ms, max ${fromResponse[fromResponse.length - 1]} ms\n` +
        `  follower CPU: ${cpuMs.toFixed(0)} ms for ${events} events = ${((cpuMs / events) * 1000).toFixed(0)} ms per 1,000 events (user ${(cpu.user / 1000).toFixed(0)} ms, system ${(cpu.system / 1000).toFixed(0)} ms)\n`,
    );
    expect(events).toBeGreaterThanOrEqual(sentAt.size);
  } finally {
    await hs.stop();
    await pg.stop();
    await graph.driver.close();
    await rm(dir, { recursive: true, force: true });
  }
}, 600_000);
