/**
 * The room generator: reproducible for a seed, and every event a real federation PDU: its content hash matches,
 * its signature verifies with tweetnacl (an ed25519 implementation independent of node:crypto) against the key of the
 * sender's server, its depth follows its prev_events and its IDs have the room version's format.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { writeRoom } from '../../src/generator/write-room';
import { decodeBase64, encodeBase64 } from '../../src/core/base64';
import { canonicalJson } from '../../src/core/canonical-json';
import { contentHashMatches } from '../../src/core/event-hashes';
import { serverNameOf } from '../../src/core/identifiers';
import { redactEvent } from '../../src/core/redaction';
import { getRoomVersion } from '../../src/core/room-versions';
import { generateRoom, IRREGULAR_MIN_EVENTS, roomBuilderFor, type GenerateOptions } from '../../src/generator/generate-room';
import { IRREGULAR_LINES, type IrregularEvents } from '../../src/generator/irregular-events';
import { keysFilePath, readKeysFile } from '../../src/generator/keys-file';
import { RoomBuilder, type BuiltEvent, type Pdu } from '../../src/generator/room-builder';

// Small enough that tweetnacl (pure JavaScript, tens of milliseconds a verification here) checks every signature quickly.
const EVENTS = 50;

function generate(options: GenerateOptions) {
  const builder = roomBuilderFor(options);
  const events = [...generateRoom(options, builder)];
  return { builder, events, lines: events.map((event) => JSON.stringify(event.pdu)) };
}

/** sha256 over the canonical JSON of the redacted event without signatures and unsigned (spec: "reference hash"). */
function referenceHash(pdu: Pdu, roomVersion: string): Buffer {
  const { signatures: _s, unsigned: _u, ...redacted } = redactEvent(pdu, getRoomVersion(roomVersion)!);
  return createHash('sha256').update(canonicalJson(redacted), 'utf8').digest();
}

describe('generateRoom: reproducible', () => {
  const options: GenerateOptions = { events: EVENTS, roomVersion: '10', seed: 'generator-repro', servers: 4 };

  it('gives byte-identical lines for the same seed', () => {
    const first = generate(options).lines;
    const second = generate(options).lines;
    expect(first).toHaveLength(EVENTS);
    expect(second.join('\n')).toBe(first.join('\n'));
  });

  it('gives the same keys for the same seed', () => {
    const first = [...generate(options).builder.servers()].map(([name, key]) => [name, key.publicKey]);
    const second = [...generate(options).builder.servers()].map(([name, key]) => [name, key.publicKey]);
    expect(second).toEqual(first);
  });

  it('gives other events, IDs and keys for another seed', () => {
    const first = generate(options);
    const other = generate({ ...options, seed: 'generator-repro-2' });
    const firstIds = new Set(first.events.map((event) => event.event_id));
    expect(other.events.filter((event) => firstIds.has(event.event_id))).toEqual([]);
    expect(other.builder.servers().get('hs1.test')!.publicKey).not.toBe(first.builder.servers().get('hs1.test')!.publicKey);
  });

  it('gives v12 rooms of different seeds different room IDs, though only the create event names the room', () => {
    // The reference hash of a v12 create covers no signature, so nothing but what the seed picks inside the event
    // can tell two rooms of the same creator apart.
    const roomIds = Array.from({ length: 300 }, (_, i) => {
      const builder = new RoomBuilder('12', `generator-v12-rooms/${i}`);
      builder.create('@alice:hs1.test');
      return builder.roomId;
    });
    expect(new Set(roomIds).size).toBe(300);
  });

  it('stops at exactly the number of events asked for, even inside the setup', () => {
    expect(generate({ ...options, events: 3 }).events.map((event) => event.type)).toEqual([
      'm.room.create',
      'm.room.member',
      'm.room.power_levels',
    ]);
    expect(generate({ ...options, events: 1 }).events).toHaveLength(1);
  });
});

describe.each(['1', '3', '10', '11', '12'])('generateRoom: a room of version %s', (roomVersion) => {
  const { builder, events } = generate({ events: EVENTS, roomVersion, seed: `generator-v${roomVersion}`, servers: 4 });
  const byId = new Map(events.map((event) => [event.event_id, event]));
  const version = getRoomVersion(roomVersion)!;
  const prevIds = (event: BuiltEvent) =>
    (event.pdu.prev_events as unknown[]).map((entry) => (version.referencesAreHashPairs ? (entry as [string])[0] : (entry as string)));

  it('has the number of events asked for, each with a distinct event ID', () => {
    expect(events).toHaveLength(EVENTS);
    expect(byId.size).toBe(EVENTS);
  });

  it('gives every event a matching content hash', () => {
    expect(events.filter((event) => !contentHashMatches(event.pdu)).map((event) => event.event_id)).toEqual([]);
  });

  it('signs every event by the sender’s server, verifiable with tweetnacl', () => {
    const servers = builder.servers();
    const unverified = events.filter((event) => {
      const server = serverNameOf(event.pdu.sender)!;
      const key = servers.get(server)!;
      const signatures = event.pdu.signatures as Record<string, Record<string, string>>;
      expect(Object.keys(signatures)).toEqual([server]);
      expect(Object.keys(signatures[server]!)).toEqual([key.keyId]);
      const { signatures: _s, unsigned: _u, ...signed } = redactEvent(event.pdu, version);
      return !nacl.sign.detached.verify(
        Buffer.from(canonicalJson(signed), 'utf8'),
        decodeBase64(signatures[server]![key.keyId]!)!,
        decodeBase64(key.publicKey)!,
      );
    });
    expect(unverified.map((event) => event.event_id)).toEqual([]);
  });

  it('gives every event the depth max(prev depths) + 1, and prev_events that come earlier', () => {
    const seen = new Set<string>();
    for (const event of events) {
      const prevs = prevIds(event);
      for (const id of prevs) expect(seen.has(id)).toBe(true);
      const expected = prevs.reduce((max, id) => Math.max(max, byId.get(id)!.depth), 0) + 1;
      expect([event.event_id, event.pdu.depth]).toEqual([event.event_id, expected]);
      expect(event.depth).toBe(expected);
      seen.add(event.event_id);
    }
  });

  it('starts with the create event, the only one without prev_events', () => {
    expect(events[0]!.type).toBe('m.room.create');
    expect(events.filter((event) => prevIds(event).length === 0).map((event) => event.event_id)).toEqual([events[0]!.event_id]);
  });

  it('forks and merges: some events have two or more prev_events, and several events share a prev', () => {
    expect(events.filter((event) => prevIds(event).length >= 2).length).toBeGreaterThan(0);
    const children = new Map<string, number>();
    for (const event of events) for (const id of prevIds(event)) children.set(id, (children.get(id) ?? 0) + 1);
    expect([...children.values()].filter((count) => count >= 2).length).toBeGreaterThan(0);
  });

  it('has joined members from all four servers, and senders from several', () => {
    const memberServers = new Set(
      events
        .filter((event) => event.type === 'm.room.member' && (event.pdu.content as { membership?: unknown }).membership === 'join')
        .map((event) => serverNameOf(event.state_key)),
    );
    expect([...memberServers].sort()).toEqual(['hs1.test', 'hs2.test', 'hs3.test', 'hs4.test']);
    expect([...builder.servers().keys()].sort()).toEqual(['hs1.test', 'hs2.test', 'hs3.test', 'hs4.test']);
  });

  it('puts the right room_id on every event', () => {
    const [create, ...rest] = events;
    if (version.roomIdIsCreateEventId) {
      // v12 (MSC4291): the create event has no room_id; the room ID is its event ID with the `!` sigil, no server.
      expect('room_id' in create!.pdu).toBe(false);
      expect(builder.roomId).toBe(`!${create!.event_id.slice(1)}`);
      expect(builder.roomId).toMatch(/^![A-Za-z0-9_-]{43}$/);
    } else {
      expect(create!.pdu.room_id).toBe(builder.roomId);
      expect(builder.roomId).toMatch(/^![A-Za-z]{18}:hs1\.test$/);
    }
    expect(rest.filter((event) => event.pdu.room_id !== builder.roomId)).toEqual([]);
  });

  if (version.eventIdFormat === 'carried') {
    it('carries `$opaque:server` event IDs in the PDU', () => {
      for (const event of events) {
        expect(event.pdu.event_id).toBe(event.event_id);
        expect(event.event_id).toMatch(new RegExp(`^\\$[A-Za-z]{18}:${serverNameOf(event.pdu.sender)!.replace('.', '\\.')}$`));
      }
    });

    it('lists prev_events and auth_events as [event_id, {sha256: the reference hash}] pairs', () => {
      let pairs = 0;
      for (const event of events) {
        for (const field of ['prev_events', 'auth_events'] as const) {
          for (const entry of event.pdu[field] as unknown[]) {
            const [id, hashes] = entry as [string, { sha256: string }];
            expect(entry).toEqual([id, { sha256: encodeBase64(referenceHash(byId.get(id)!.pdu, roomVersion)) }]);
            expect(hashes.sha256).toMatch(/^[A-Za-z0-9+/]{43}$/);
            pairs += 1;
          }
        }
      }
      expect(pairs).toBeGreaterThan(EVENTS);
    });
  } else {
    it('derives every event ID from the reference hash, in the room version’s Base64', () => {
      for (const event of events) {
        const hash = referenceHash(event.pdu, roomVersion);
        const expected = version.eventIdFormat === 'base64' ? encodeBase64(hash) : hash.toString('base64url');
        expect(event.event_id).toBe(`$${expected}`);
        expect('event_id' in event.pdu).toBe(false);
      }
    });

    it('lists prev_events and auth_events as event IDs of earlier events', () => {
      for (const event of events) {
        for (const field of ['prev_events', 'auth_events'] as const) {
          for (const id of event.pdu[field] as unknown[]) expect(byId.has(id as string)).toBe(true);
        }
      }
    });
  }

  if (version.eventIdFormat === 'url-safe-base64') {
    it('makes URL-safe event IDs', () => {
      expect(events.filter((event) => !/^\$[A-Za-z0-9_-]{43}$/.test(event.event_id)).map((e) => e.event_id)).toEqual([]);
      // Over 50 random hashes, some would have had a + or / in standard Base64.
      expect(events.some((event) => /[-_]/.test(event.event_id))).toBe(true);
    });
  }

  if (version.eventIdFormat === 'base64') {
    it('makes standard Base64 event IDs', () => {
      expect(events.filter((event) => !/^\$[A-Za-z0-9+/]{43}$/.test(event.event_id)).map((e) => e.event_id)).toEqual([]);
    });
  }
});

describe('writeRoom', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'generator-test-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['1', '10', '12'])('writes N lines and a 0600 keys file that readKeysFile reads back (v%s)', async (roomVersion) => {
    const options: GenerateOptions = { events: 40, roomVersion, seed: `write-room-v${roomVersion}`, servers: 3 };
    const out = join(dir, `room-v${roomVersion}.jsonl`);
    const keysPath = await writeRoom(options, out);
    expect(keysPath).toBe(keysFilePath(out));
    expect(keysPath).toBe(`${out}.keys.json`);

    const { builder, lines } = generate(options);
    const text = readFileSync(out, 'utf8');
    expect(text).toBe(`${lines.join('\n')}\n`);
    expect(text.trimEnd().split('\n')).toHaveLength(40);

    expect(statSync(keysPath).mode & 0o777).toBe(0o600);
    const keys = readKeysFile(keysPath);
    expect(keys.room_id).toBe(builder.roomId);
    expect(keys.room_version).toBe(roomVersion);
    const expected = [...builder.servers()].map(([name, key]) => [name, key.keyId, key.publicKey, encodeBase64(key.seed)]);
    expect([...keys.servers].map(([name, key]) => [name, key.keyId, key.publicKey, encodeBase64(key.seed)])).toEqual(expected);
    expect(expected.map(([name]) => name).sort()).toEqual(['hs1.test', 'hs2.test', 'hs3.test']);
  });

  it('narrows an existing keys file to 0600 when writing over it', async () => {
    const options: GenerateOptions = { events: 6, roomVersion: '11', seed: 'write-room-over', servers: 2 };
    const out = join(dir, 'room-over.jsonl');
    writeFileSync(keysFilePath(out), 'old and much longer content than the new keys file will have '.repeat(40), { mode: 0o644 });
    expect(statSync(keysFilePath(out)).mode & 0o777).toBe(0o644);
    await writeRoom(options, out);
    expect(statSync(keysFilePath(out)).mode & 0o777).toBe(0o600);
    expect(readKeysFile(keysFilePath(out)).room_id).toBe(generate(options).builder.roomId);
  });
});

describe('power levels and the creator', () => {
  it.each([
    ['11', { '@alice:hs1.test': 100 }],
    ['12', {}],
  ])('room version %s lists the creator in power levels users only before v12 (MSC4289: creators are not listed)', (roomVersion, users) => {
    const options = { events: 5, roomVersion, seed: 'generator/creator-power' };
    const events = [...generateRoom(options, roomBuilderFor(options))];
    const powerLevels = events.find((event) => event.type === 'm.room.power_levels')!;
    expect((powerLevels.pdu.content as { users: unknown }).users).toEqual(users);
  });
});

describe('generateRoom with irregular events (the demo room, generate --conflicts)', () => {
  const lines = (options: GenerateOptions) => generate(options).lines;

  it.each([
    ['1', false], ['10', false], ['12', false], ['10', true], ['12', true],
  ])('v%s (conflicts %s): the events asked for, the regular ones unchanged, then the seven irregular lines', (roomVersion, conflicts) => {
    const options: GenerateOptions = { events: 300, roomVersion, seed: `generator-irregular/${roomVersion}`, servers: 4, conflicts };
    let irregular: IrregularEvents | undefined;
    const builder = roomBuilderFor({ ...options, irregular: true });
    const events = [...generateRoom({ ...options, irregular: true }, builder, () => {}, (added) => (irregular = added))];
    expect(events).toHaveLength(300);
    const regular = events.slice(0, 300 - IRREGULAR_LINES);
    // The same events as a room of 293 without them (no scenario had to be undone for these seeds).
    expect(regular.map((event) => JSON.stringify(event.pdu))).toEqual(lines({ ...options, events: 300 - IRREGULAR_LINES }));
    const x = irregular!;
    expect(events.slice(-IRREGULAR_LINES)).toEqual([x.spammerJoin, x.softFailed, x.ban, x.waiting, x.rejected, x.after, x.newest]);
    // The missing event is built (its ID is named) but not among the room's lines.
    expect(events.map((event) => event.event_id)).not.toContain(x.missing.event_id);
    const prevIds = (event: BuiltEvent) => (event.pdu.prev_events as unknown[]).map((ref) => (Array.isArray(ref) ? ref[0] : ref));
    expect(prevIds(x.waiting)).toEqual([x.missing.event_id]);
    expect([x.softFailed, x.ban, x.missing].map(prevIds)).toEqual([[x.spammerJoin.event_id], [x.spammerJoin.event_id], [x.spammerJoin.event_id]]);
    expect([x.rejected, x.after].map(prevIds)).toEqual([[x.ban.event_id], [x.ban.event_id]]);
    expect(prevIds(x.newest)).toEqual([x.after.event_id]);
    // The spammer's join merges the regular events' tips, and nothing names the detached events.
    expect(events.slice(0, -IRREGULAR_LINES).filter((event) => !events.some((other) => prevIds(other).includes(event.event_id)))).toEqual([]);
    const named = new Set(events.flatMap(prevIds));
    expect([x.softFailed, x.waiting, x.rejected, x.newest].filter((event) => named.has(event.event_id))).toEqual([]);
    // The newest event is the deepest, alone: the one `npm start`'s Try: line starts from.
    expect(events.filter((event) => event.depth >= x.newest.depth)).toEqual([x.newest]);
    expect([x.softFailed.pdu.sender, x.ban.pdu.state_key, x.ban.pdu.content, x.rejected.pdu.sender]).toEqual(
      ['@spammer:hs4.test', '@spammer:hs4.test', { membership: 'ban', reason: 'spam' }, '@intruder:hs4.test'],
    );
    // The builder's state has the ban and not the rejected topic; its only forward extremity is the newest event.
    expect(builder.currentState('m.room.member', '@spammer:hs4.test')).toBe(x.ban);
    expect(builder.currentState('m.room.topic', '')?.pdu.sender).not.toBe('@intruder:hs4.test');
    expect(builder.forwardExtremities()).toEqual([x.newest]);
  });

  it('leaves a room without them unchanged, and a room too small for them too', () => {
    const options: GenerateOptions = { events: 120, roomVersion: '10', seed: 'generator-irregular/off', servers: 4 };
    expect(lines({ ...options, irregular: false })).toEqual(lines(options));
    expect(lines({ ...options, events: IRREGULAR_MIN_EVENTS - 1, irregular: true })).toEqual(lines({ ...options, events: IRREGULAR_MIN_EVENTS - 1 }));
    expect(lines({ ...options, events: IRREGULAR_MIN_EVENTS, irregular: true })).toHaveLength(IRREGULAR_MIN_EVENTS);
  });

  it('undoes a conflict scenario that would run into them, and fills the room with random events instead', () => {
    // conflicts-cut: with 103 events, the first scenario (from event 100) is cut; here it would end past line 96.
    const options: GenerateOptions = { events: 103, roomVersion: '10', seed: 'conflicts-cut', servers: 4, conflicts: true, irregular: true };
    const outcomes: unknown[] = [];
    const events = [...generateRoom(options, roomBuilderFor(options), (outcome) => outcomes.push(outcome))];
    expect(events).toHaveLength(103);
    expect(outcomes).toEqual([]);
    expect(events.some((event) => event.state_key === '@admin-0:hs2.test')).toBe(false);
    expect(events.slice(-IRREGULAR_LINES).map((event) => event.pdu.sender)).toEqual(
      ['@spammer:hs4.test', '@spammer:hs4.test', '@alice:hs1.test', '@alice:hs1.test', '@intruder:hs4.test', '@alice:hs1.test', '@alice:hs1.test'],
    );
  });
});
