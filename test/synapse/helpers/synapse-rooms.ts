/**
 * Two federating Synapses (hs1, hs2) and the rooms the tests import: one per room version, made through the client
 * API by alice on hs1 with bob on hs2 joining over federation; state changes, a redaction and a fork (alice and bob
 * send at once, each server building on what it had, and alice's next event merges the two).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHomeserver, type Homeserver } from './homeserver';
import { federationRequest, MatrixUser } from './matrix-client';
import { ensureSynapseVenv, type SynapseVenv } from './synapse-venv';

export interface SynapsePair {
  readonly venv: SynapseVenv;
  readonly dir: string;
  readonly hs1: Homeserver;
  readonly hs2: Homeserver;
  readonly alice: MatrixUser;
  readonly bob: MatrixUser;
  close(): Promise<void>;
}

export async function startSynapsePair(log: (line: string) => void): Promise<SynapsePair> {
  const venv = await ensureSynapseVenv(log);
  const dir = await mkdtemp(join(tmpdir(), 'maxtryx-synapse-'));
  const hs1 = await createHomeserver({ python: venv.python, dir: join(dir, 'hs1') });
  const hs2 = await createHomeserver({ python: venv.python, dir: join(dir, 'hs2') });
  const close = async () => {
    await Promise.all([hs1.stop(), hs2.stop()]);
    if (process.env.KEEP_SYNAPSE_DIR) log(`kept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all([hs1.start(), hs2.start()]);
    const [a, b] = await Promise.all([hs1.register('alice'), hs2.register('bob')]);
    return {
      venv, dir, hs1, hs2,
      alice: new MatrixUser(hs1.clientUrl, a.userId, a.accessToken),
      bob: new MatrixUser(hs2.clientUrl, b.userId, b.accessToken),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

export interface BuiltRoom {
  readonly roomVersion: string;
  readonly roomId: string;
  /** The two events sent at once, and the event that names both. */
  readonly fork: { readonly alice: string; readonly bob: string; readonly merge: string };
  readonly topicChange: string;
  readonly redacted: string;
  readonly redaction: string;
  /** The newest event, alice's last message. */
  readonly last: string;
}

export async function buildRoom(pair: SynapsePair, roomVersion: string): Promise<BuiltRoom> {
  const { alice, bob, hs1 } = pair;
  const roomId = await alice.createRoom({
    room_version: roomVersion,
    preset: 'private_chat',
    name: `Room version ${roomVersion}`,
    topic: 'first topic',
    invite: [bob.userId],
  });
  await alice.send(roomId, 'hello before bob joins');
  await bob.join(roomId, hs1.serverName);
  const fromBob = await bob.send(roomId, 'hello from hs2');
  await alice.waitForEvent(roomId, fromBob);
  const topicChange = await alice.setState(roomId, 'm.room.topic', '', { topic: 'second topic' });
  await bob.waitForEvent(roomId, topicChange);

  let fork: BuiltRoom['fork'] | undefined;
  for (let attempt = 1; fork === undefined; attempt += 1) {
    if (attempt > 5) throw new Error(`no fork in room ${roomId} after 5 attempts`);
    const [fromAlice, fromBobAtOnce] = await Promise.all([alice.send(roomId, `at once ${attempt} (hs1)`), bob.send(roomId, `at once ${attempt} (hs2)`)]);
    await Promise.all([alice.waitForEvent(roomId, fromBobAtOnce), bob.waitForEvent(roomId, fromAlice)]);
    const merge = await alice.send(roomId, `after ${attempt}`);
    const prevEvents = prevEventIds(await fetchPdu(pair, merge));
    if (prevEvents.includes(fromAlice) && prevEvents.includes(fromBobAtOnce)) fork = { alice: fromAlice, bob: fromBobAtOnce, merge };
  }

  const redacted = await alice.send(roomId, 'a message that is then redacted');
  const redaction = await alice.redact(roomId, redacted, 'testing redactions');
  const powerLevels = await alice.state(roomId, 'm.room.power_levels');
  await alice.setState(roomId, 'm.room.power_levels', '', {
    ...powerLevels,
    users: { ...(powerLevels.users as Record<string, number>), [bob.userId]: 50 },
  });
  const last = await alice.send(roomId, 'the last message');
  await bob.waitForEvent(roomId, last);
  return { roomVersion, roomId, fork, topicChange, redacted, redaction, last };
}

/** An event as hs1 serves it over federation to hs2 (`GET /_matrix/federation/v1/event/{eventId}`). */
export async function fetchPdu(pair: SynapsePair, eventId: string): Promise<Record<string, unknown>> {
  const { hs1, hs2 } = pair;
  const reply = await federationRequest({
    url: hs1.federationUrl,
    method: 'GET',
    path: `/_matrix/federation/v1/event/${encodeURIComponent(eventId)}`,
    origin: hs2.serverName,
    destination: hs1.serverName,
    key: hs2.signingKey,
  });
  const pdus = (reply.json as { pdus?: Record<string, unknown>[] }).pdus;
  if (reply.status !== 200 || pdus?.length !== 1) throw new Error(`GET event ${eventId} from hs1: ${reply.status} ${JSON.stringify(reply.json)}`);
  return pdus[0]!;
}

/** prev_events as IDs, whatever the room version's format (v1/v2 write `[id, {sha256}]` pairs). */
export function prevEventIds(pdu: Record<string, unknown>): string[] {
  return (pdu.prev_events as unknown[]).map((entry) => (Array.isArray(entry) ? String(entry[0]) : String(entry)));
}
