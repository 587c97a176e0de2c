/**
 * Content hashes, reference hashes, event IDs and event signatures against the spec: content/appendices.md
 * "Event Signing" vectors, content/server-server-api.md "Signing Events" / "Calculating the reference hash" /
 * "Calculating the content hash", and the "Event IDs" sections of content/rooms/v1.md .. v12.md. Values the spec
 * gives no vector for are recomputed here independently: node:crypto sha256 over hand-written canonical JSON, and
 * tweetnacl for ed25519.
 */
import { createHash } from 'node:crypto';
import nacl from 'tweetnacl';
import { encodeBase64 } from '../../src/core/base64';
import {
  computeContentHash,
  computeEventId,
  computeReferenceHash,
  contentHashMatches,
  hashAndSignEvent,
} from '../../src/core/event-hashes';
import { redactEvent } from '../../src/core/redaction';
import { declaredRoomVersion, getRoomVersion, SUPPORTED_ROOM_VERSIONS, type RoomVersion } from '../../src/core/room-versions';
import { verifyJsonSignature } from '../../src/core/signing';
import { SPEC_KEY, SPEC_NACL_PAIR, SPEC_PUBLIC_KEY } from '../helpers/spec-signing-key';

const key = SPEC_KEY;
const naclPair = SPEC_NACL_PAIR;
const PUBLIC_KEY = SPEC_PUBLIC_KEY;

const v = (id: string): RoomVersion => getRoomVersion(id)!;
const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
const b64 = (bytes: Buffer): string => bytes.toString('base64').replace(/=+$/, '');
const naclSign = (text: string): string =>
  encodeBase64(nacl.sign.detached(Buffer.from(text, 'utf8'), naclPair.secretKey));

const PRE_V11 = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'];
const V11_ON = ['11', '12'];

// The spec's "minimally-sized event".
const MINIMAL_EVENT = {
  room_id: '!x:domain',
  sender: '@a:domain',
  origin: 'domain',
  origin_server_ts: 1000000,
  signatures: {},
  hashes: {},
  type: 'X',
  content: {},
  prev_events: [],
  auth_events: [],
  depth: 3,
  unsigned: { age_ts: 1000000 },
};
const MINIMAL_HASH = '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos';
const MINIMAL_SIGNATURE = 'KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg';
const MINIMAL_SIGNED = {
  auth_events: [],
  content: {},
  depth: 3,
  hashes: { sha256: MINIMAL_HASH },
  origin: 'domain',
  origin_server_ts: 1000000,
  prev_events: [],
  room_id: '!x:domain',
  sender: '@a:domain',
  signatures: { domain: { 'ed25519:1': MINIMAL_SIGNATURE } },
  type: 'X',
  unsigned: { age_ts: 1000000 },
};
// What the signature covers under the v1-v10 redaction rules (origin kept) and the v11+ ones (origin dropped).
const MINIMAL_REDACTED_PRE_V11 = `{"auth_events":[],"content":{},"depth":3,"hashes":{"sha256":"${MINIMAL_HASH}"},"origin":"domain","origin_server_ts":1000000,"prev_events":[],"room_id":"!x:domain","sender":"@a:domain","type":"X"}`;
const MINIMAL_REDACTED_V11 = `{"auth_events":[],"content":{},"depth":3,"hashes":{"sha256":"${MINIMAL_HASH}"},"origin_server_ts":1000000,"prev_events":[],"room_id":"!x:domain","sender":"@a:domain","type":"X"}`;

// The spec's "event containing redactable content".
const MESSAGE_EVENT = {
  content: { body: 'Here is the message content' },
  event_id: '$0:domain',
  origin: 'domain',
  origin_server_ts: 1000000,
  type: 'm.room.message',
  room_id: '!r:domain',
  sender: '@u:domain',
  signatures: {},
  unsigned: { age_ts: 1000000 },
};
const MESSAGE_HASH = 'onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g';
const MESSAGE_SIGNATURE = 'Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA';
const MESSAGE_SIGNED = {
  content: { body: 'Here is the message content' },
  event_id: '$0:domain',
  hashes: { sha256: MESSAGE_HASH },
  origin: 'domain',
  origin_server_ts: 1000000,
  type: 'm.room.message',
  room_id: '!r:domain',
  sender: '@u:domain',
  signatures: { domain: { 'ed25519:1': MESSAGE_SIGNATURE } },
  unsigned: { age_ts: 1000000 },
};

describe('the spec "Event Signing" vectors', () => {
  it('content hashes match the spec and an independent sha256 of the hand-written canonical JSON', () => {
    expect(computeContentHash(MINIMAL_EVENT)).toBe(MINIMAL_HASH);
    expect(
      b64(sha256('{"auth_events":[],"content":{},"depth":3,"origin":"domain","origin_server_ts":1000000,"prev_events":[],"room_id":"!x:domain","sender":"@a:domain","type":"X"}')),
    ).toBe(MINIMAL_HASH);
    expect(computeContentHash(MESSAGE_EVENT)).toBe(MESSAGE_HASH);
    expect(
      b64(sha256('{"content":{"body":"Here is the message content"},"event_id":"$0:domain","origin":"domain","origin_server_ts":1000000,"room_id":"!r:domain","sender":"@u:domain","type":"m.room.message"}')),
    ).toBe(MESSAGE_HASH);
  });

  it('the signatures are tweetnacl signatures of the redacted events (v1-v10 rules)', () => {
    expect(naclSign(MINIMAL_REDACTED_PRE_V11)).toBe(MINIMAL_SIGNATURE);
    expect(
      naclSign(`{"content":{},"event_id":"$0:domain","hashes":{"sha256":"${MESSAGE_HASH}"},"origin":"domain","origin_server_ts":1000000,"room_id":"!r:domain","sender":"@u:domain","type":"m.room.message"}`),
    ).toBe(MESSAGE_SIGNATURE);
  });

  it.each(PRE_V11)('hashAndSignEvent reproduces both signed events exactly in room version %s', (id) => {
    expect(hashAndSignEvent(MINIMAL_EVENT, v(id), 'domain', key)).toEqual(MINIMAL_SIGNED);
    expect(hashAndSignEvent(MESSAGE_EVENT, v(id), 'domain', key)).toEqual(MESSAGE_SIGNED);
  });

  it.each(V11_ON)('in room version %s the signature no longer covers `origin`', (id) => {
    const signed = hashAndSignEvent(MINIMAL_EVENT, v(id), 'domain', key);
    expect(signed).toEqual({ ...MINIMAL_SIGNED, signatures: { domain: { 'ed25519:1': naclSign(MINIMAL_REDACTED_V11) } } });
    expect(naclSign(MINIMAL_REDACTED_V11)).not.toBe(MINIMAL_SIGNATURE);
  });

  it('does not mutate its input', () => {
    const input = structuredClone(MINIMAL_EVENT);
    hashAndSignEvent(input, v('1'), 'domain', key);
    expect(input).toEqual(MINIMAL_EVENT);
  });

  it.each(SUPPORTED_ROOM_VERSIONS)('signed events verify over their redacted form in room version %s', (id) => {
    const signed = hashAndSignEvent(MESSAGE_EVENT, v(id), 'domain', key);
    expect(verifyJsonSignature(redactEvent(signed, v(id)), 'domain', 'ed25519:1', PUBLIC_KEY)).toBe(true);
    expect(contentHashMatches(signed)).toBe(true);
    // Redactable content may change without breaking the signature; the content hash catches it.
    const edited = { ...signed, content: { body: 'edited' } };
    expect(verifyJsonSignature(redactEvent(edited, v(id)), 'domain', 'ed25519:1', PUBLIC_KEY)).toBe(true);
    expect(contentHashMatches(edited)).toBe(false);
    // An essential field may not.
    const moved = { ...signed, origin_server_ts: 1000001 };
    expect(verifyJsonSignature(redactEvent(moved, v(id)), 'domain', 'ed25519:1', PUBLIC_KEY)).toBe(false);
  });

  it('keeps signatures from other servers and replaces stale hashes', () => {
    const input = {
      ...MINIMAL_EVENT,
      hashes: { sha256: 'stale' },
      signatures: { 'other.example': { 'ed25519:x': 'c2ln' } },
    };
    const signed = hashAndSignEvent(input, v('1'), 'domain', key);
    expect(signed.hashes).toEqual({ sha256: MINIMAL_HASH });
    expect(signed.signatures).toEqual({
      'other.example': { 'ed25519:x': 'c2ln' },
      domain: { 'ed25519:1': MINIMAL_SIGNATURE },
    });
  });
});

describe('contentHashMatches', () => {
  it('checks hashes.sha256 against the content hash', () => {
    expect(contentHashMatches(MINIMAL_SIGNED)).toBe(true);
    expect(contentHashMatches(MESSAGE_SIGNED)).toBe(true);
    expect(contentHashMatches({ ...MESSAGE_SIGNED, content: { body: 'Here is the message content!' } })).toBe(false);
    expect(contentHashMatches({ ...MINIMAL_SIGNED, depth: 4 })).toBe(false);
  });

  it('ignores unsigned and signatures', () => {
    expect(contentHashMatches({ ...MINIMAL_SIGNED, unsigned: { age: 99 }, signatures: {} })).toBe(true);
  });

  it('compares decoded bytes, so a padded hash matches too', () => {
    expect(contentHashMatches({ ...MINIMAL_SIGNED, hashes: { sha256: `${MINIMAL_HASH}=` } })).toBe(true);
  });

  it.each([
    ['no hashes', undefined],
    ['empty hashes', {}],
    ['a non-string hash', { sha256: 5 }],
    ['a non-Base64 hash', { sha256: '!!!' }],
    ['a truncated hash', { sha256: MINIMAL_HASH.slice(0, -1) }],
    ['hashes as a string', MINIMAL_HASH],
  ])('is false for %s', (_name, hashes) => {
    expect(contentHashMatches({ ...MINIMAL_SIGNED, hashes })).toBe(false);
  });
});

describe('room versions', () => {
  it('knows versions 1 to 12 and nothing else', () => {
    expect(SUPPORTED_ROOM_VERSIONS).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12']);
    expect(getRoomVersion('13')).toBeUndefined();
    expect(getRoomVersion('')).toBeUndefined();
    expect(getRoomVersion('org.matrix.msc2176')).toBeUndefined();
  });

  it.each<[string, string, boolean]>([
    ['1', 'carried', true],
    ['2', 'carried', true],
    ['3', 'base64', false],
    ...['4', '5', '6', '7', '8', '9', '10', '11', '12'].map((id): [string, string, boolean] => [id, 'url-safe-base64', false]),
  ])('room version %s: event IDs are %s, hash-pair references %p', (id, format, pairs) => {
    expect(v(id).id).toBe(id);
    expect(v(id).eventIdFormat).toBe(format);
    expect(v(id).referencesAreHashPairs).toBe(pairs);
    expect(v(id).roomIdIsCreateEventId).toBe(id === '12');
  });

  it('defaults a create event without room_version to "1"', () => {
    expect(declaredRoomVersion({})).toBe('1');
    expect(declaredRoomVersion(undefined)).toBe('1');
    // Not a string: no room version, so the importer refuses the room as unknown instead of reading it as v1.
    expect(declaredRoomVersion({ room_version: 10 })).toBe('10 (not a string)');
    expect(getRoomVersion(declaredRoomVersion({ room_version: 10 }))).toBeUndefined();
    expect(declaredRoomVersion({ room_version: '11' })).toBe('11');
  });
});

describe('reference hashes and event IDs', () => {
  // An event found (by trying origin_server_ts values) whose reference hash uses both "+" and "/" in Base64.
  const FULL_CANONICAL = '{"auth_events":["$auth1","$auth2"],"content":{"body":"hello","msgtype":"m.text"},"depth":5,"origin_server_ts":1700000000003,"prev_events":["$prev1"],"room_id":"!r:domain","sender":"@u:domain","type":"m.room.message"}';
  const CONTENT_HASH = 'YpC5q5a0vJezUWeZxz3qKnqSrdA9+L/hbsNo+D40hDA';
  const REDACTED_CANONICAL = `{"auth_events":["$auth1","$auth2"],"content":{},"depth":5,"hashes":{"sha256":"${CONTENT_HASH}"},"origin_server_ts":1700000000003,"prev_events":["$prev1"],"room_id":"!r:domain","sender":"@u:domain","type":"m.room.message"}`;
  const V3_ID = '$E/tZOSph8hEWFFNevrf9stcwjrlcbguO+KXPVXNJz38';
  const V4_ID = '$E_tZOSph8hEWFFNevrf9stcwjrlcbguO-KXPVXNJz38';
  const event = {
    type: 'm.room.message',
    room_id: '!r:domain',
    sender: '@u:domain',
    content: { msgtype: 'm.text', body: 'hello' },
    depth: 5,
    prev_events: ['$prev1'],
    auth_events: ['$auth1', '$auth2'],
    origin_server_ts: 1700000000003,
    hashes: { sha256: CONTENT_HASH },
    signatures: { domain: { 'ed25519:1': 'c2ln' } },
    unsigned: { age: 1 },
  };

  it('the hand-written vectors are self-consistent', () => {
    expect(b64(sha256(FULL_CANONICAL))).toBe(CONTENT_HASH);
    expect(`$${b64(sha256(REDACTED_CANONICAL))}`).toBe(V3_ID);
    expect(`$${sha256(REDACTED_CANONICAL).toString('base64url')}`).toBe(V4_ID);
  });

  it('computeContentHash agrees', () => {
    expect(computeContentHash(event)).toBe(CONTENT_HASH);
    expect(contentHashMatches(event)).toBe(true);
  });

  it.each(SUPPORTED_ROOM_VERSIONS.filter((id) => id !== '1' && id !== '2'))(
    'reference hash in room version %s is sha256 of the redacted event without signatures and unsigned',
    (id) => {
      expect(computeReferenceHash(event, v(id))).toEqual(sha256(REDACTED_CANONICAL));
    },
  );

  it('room version 3 uses standard unpadded Base64 ("+" and "/")', () => {
    expect(computeEventId(event, v('3'))).toBe(V3_ID);
    expect(V3_ID).toMatch(/^\$[A-Za-z0-9+/]{43}$/);
  });

  it.each(['4', '5', '6', '7', '8', '9', '10', '11', '12'])(
    'room version %s uses URL-safe unpadded Base64 ("-" and "_")',
    (id) => {
      expect(computeEventId(event, v(id))).toBe(V4_ID);
      expect(V4_ID).toMatch(/^\$[A-Za-z0-9_-]{43}$/);
    },
  );

  it.each(['1', '2'])('room version %s carries event_id in the PDU', (id) => {
    expect(computeEventId({ ...event, event_id: '$abc:domain' }, v(id))).toBe('$abc:domain');
    expect(computeEventId(event, v(id))).toBeUndefined();
    expect(computeEventId({ ...event, event_id: 5 }, v(id))).toBeUndefined();
  });

  it('does not depend on signatures, unsigned or redactable content, but does on hashes and essential keys', () => {
    const id = computeEventId(event, v('10'));
    expect(computeEventId({ ...event, signatures: {}, unsigned: { age: 999 } }, v('10'))).toBe(id);
    expect(computeEventId({ ...event, content: { body: 'other' } }, v('10'))).toBe(id);
    expect(computeEventId({ ...event, hashes: { sha256: MINIMAL_HASH } }, v('10'))).not.toBe(id);
    expect(computeEventId({ ...event, depth: 6 }, v('10'))).not.toBe(id);
    expect(computeEventId({ ...event, prev_events: ['$prev2'] }, v('10'))).not.toBe(id);
  });

  it('`origin` is covered by the reference hash before v11 only', () => {
    const withOrigin = { ...event, origin: 'domain' };
    expect(computeEventId(withOrigin, v('10'))).not.toBe(V4_ID);
    expect(computeEventId(withOrigin, v('11'))).toBe(V4_ID);
    expect(computeEventId(withOrigin, v('12'))).toBe(V4_ID);
  });

  it('the spec minimal event has the expected v3 and v4 IDs', () => {
    const hash = sha256(MINIMAL_REDACTED_PRE_V11);
    expect(computeEventId(MINIMAL_SIGNED, v('3'))).toBe(`$${b64(hash)}`);
    expect(computeEventId(MINIMAL_SIGNED, v('4'))).toBe(`$${hash.toString('base64url')}`);
    expect(computeEventId(MINIMAL_SIGNED, v('11'))).toBe(`$${sha256(MINIMAL_REDACTED_V11).toString('base64url')}`);
  });
});

describe('room version 12: the room ID is the create event ID with a "!" sigil', () => {
  const create = {
    type: 'm.room.create',
    state_key: '',
    sender: '@alice:example.org',
    content: { room_version: '12', additional_creators: ['@bob:example.org'] },
    depth: 1,
    prev_events: [],
    auth_events: [],
    origin_server_ts: 1750000000000,
    unsigned: { age: 3 },
  };

  it('derives the room ID from the create event (which has no room_id)', () => {
    const signed = hashAndSignEvent(create, v('12'), 'example.org', key);
    const hashes = signed.hashes as { sha256: string };
    const canonical = `{"auth_events":[],"content":{"additional_creators":["@bob:example.org"],"room_version":"12"},"depth":1,"hashes":{"sha256":"${hashes.sha256}"},"origin_server_ts":1750000000000,"prev_events":[],"sender":"@alice:example.org","state_key":"","type":"m.room.create"}`;
    const eventId = computeEventId(signed, v('12'))!;
    expect(eventId).toBe(`$${sha256(canonical).toString('base64url')}`);
    const roomId = `!${eventId.slice(1)}`;
    expect(roomId).toMatch(/^![A-Za-z0-9_-]{43}$/);
    expect(verifyJsonSignature(redactEvent(signed, v('12')), 'example.org', 'ed25519:1', PUBLIC_KEY)).toBe(true);
  });

  it('the whole create content is covered by the ID from v11 on, only `creator` before', () => {
    const hashed = { ...create, hashes: { sha256: 'fixed' } };
    const changed = { ...hashed, content: { ...create.content, extra: true } };
    expect(computeEventId(changed, v('12'))).not.toBe(computeEventId(hashed, v('12')));
    expect(computeEventId(changed, v('11'))).not.toBe(computeEventId(hashed, v('11')));
    expect(computeEventId(changed, v('10'))).toBe(computeEventId(hashed, v('10')));
    expect(computeEventId({ ...hashed, content: { creator: '@alice:example.org' } }, v('10'))).not.toBe(
      computeEventId(hashed, v('10')),
    );
  });
});
