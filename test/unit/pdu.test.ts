/**
 * readPdu on events that have no canonical JSON form (found by the importer fuzz: a lone surrogate in `hashes`
 * made the whole import fail): the line is refused with a reason, nothing is thrown.
 */
import { readPdu, roomIdOfPdu } from '../../src/core/pdu';
import { computeContentHash } from '../../src/core/event-hashes';
import { getRoomVersion } from '../../src/core/room-versions';

const V10 = getRoomVersion('10')!;

function message(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    auth_events: [], prev_events: [], content: { msgtype: 'm.text', body: 'hi' }, depth: 3, origin: 'hs1.test',
    origin_server_ts: 1700000000000, room_id: '!r:hs1.test', sender: '@a:hs1.test', type: 'm.room.message',
    hashes: { sha256: 'x' }, signatures: {}, ...extra,
  };
}

describe('readPdu', () => {
  it.each([
    ['a lone surrogate in hashes', { hashes: [['a\udfffb']] }, 'string contains a lone UTF-16 surrogate: "a\\udfffb"'],
    ['a lone surrogate in origin', { origin: 'hs\ud800' }, 'string contains a lone UTF-16 surrogate: "hs\\ud800"'],
  ])('refuses an event with %s, saying why', (_name, extra, why) => {
    const pdu = message(extra);
    expect(readPdu(JSON.stringify(pdu), pdu, V10)).toEqual({ ok: false, reason: `the event has no canonical JSON form: ${why}` });
  });

  it('reads the same event when it has a canonical form', () => {
    const pdu = message({});
    const result = readPdu(JSON.stringify(pdu), pdu, V10);
    expect(result.ok).toBe(true);
  });
});

const V5 = getRoomVersion('5')!;
const V12 = getRoomVersion('12')!;

/** The line of `pdu` with `from` (as JSON.stringify writes it) rewritten as `to`, and the line parsed. */
function rewritten(pdu: Record<string, unknown>, from: string, to: string): [string, Record<string, unknown>] {
  const text = JSON.stringify(pdu);
  if (!text.includes(from)) throw new Error(`${from} is not in the line`);
  const line = text.replace(from, to);
  return [line, JSON.parse(line) as Record<string, unknown>];
}

describe('readPdu: numbers as written (issue 19, item 6)', () => {
  const strict = 'room version 10 allows only integers in [-(2^53)+1, 2^53-1], written without fraction or exponent';
  it.each([
    ['1.0 in content', '"n":1', '"n":1.0', `content holds the number 1.0 (not an integer): ${strict}`],
    ['1e0 in content', '"n":1', '"n":1e0', `content holds the number 1e0 (not an integer): ${strict}`],
    ['10e-1 in content', '"n":1', '"n":10e-1', `content holds the number 10e-1 (not an integer): ${strict}`],
    ['depth 5.0', '"depth":3', '"depth":5.0', 'depth is 5.0, not an integer (refused in every room version, as Synapse does)'],
    ['origin_server_ts 1.7e12', '"origin_server_ts":1700000000000', '"origin_server_ts":1.7e12', `origin_server_ts holds the number 1.7e12 (not an integer): ${strict}`],
    ['2^53 in content', '"n":1', '"n":9007199254740992', `content holds the number 9007199254740992 (beyond 2^53-1): ${strict}`],
    ['-(2^53) in content', '"n":1', '"n":-9007199254740992', `content holds the number -9007199254740992 (beyond 2^53-1): ${strict}`],
  ])('refuses a v10 event with %s, saying why', (_name, from, to, why) => {
    const [line, pdu] = rewritten(message({ content: { msgtype: 'm.text', body: 'hi', n: 1 } }), from, to);
    expect(readPdu(line, pdu, V10)).toEqual({ ok: false, reason: why });
  });

  it('refuses depth 5.0 in room version 5 too, and a float elsewhere since its canonical form is lost', () => {
    const [depthLine, depthPdu] = rewritten(message({}), '"depth":3', '"depth":5.0');
    expect(readPdu(depthLine, depthPdu, V5)).toEqual({ ok: false, reason: 'depth is 5.0, not an integer (refused in every room version, as Synapse does)' });
    const [line, pdu] = rewritten(message({ content: { n: 1 } }), '"n":1', '"n":1.0');
    expect(readPdu(line, pdu, V5)).toEqual({
      ok: false,
      reason: 'content holds the number 1.0 (not an integer): room version 5 allows it, but its canonical JSON as the sender hashed it cannot be reproduced, so the event ID and hashes would be wrong',
    });
  });

  it('reads integers at the edges of the range, -0, numbers inside strings, and floats in unsigned (not stored)', () => {
    const unhashed = message({ content: { body: 'x 1.0 "1e0"', big: 9007199254740991, small: -9007199254740991 } });
    const pdu = { ...unhashed, hashes: { sha256: computeContentHash(unhashed) } };
    const [line, parsed] = rewritten({ ...pdu, unsigned: { age: 1 } }, '"age":1', '"age":1.5,"n":-0');
    const result = readPdu(line, parsed, V10);
    expect(result.ok && [result.event.content_hash_ok, result.event.pdu]).toEqual([true, JSON.stringify(pdu)]);
  });
});

describe('readPdu: sizes of prev_events and auth_events (issue 19, item 8)', () => {
  const ids = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `$${tag}${i}`);

  it('reads 20 prev_events and 10 auth_events, keeping the first of each duplicate in order', () => {
    const pdu = message({ prev_events: [...ids(19, 'p'), '$p3'], auth_events: ['$a1', ...ids(9, 'a')] });
    const result = readPdu(JSON.stringify(pdu), pdu, V10);
    expect(result.ok && [result.event.prev_events, result.event.auth_events]).toEqual([ids(19, 'p'), ['$a1', '$a0', ...ids(9, 'a').slice(2)]]);
  });

  it.each([
    ['21 prev_events', { prev_events: ids(21, 'p') }, 'prev_events lists 21 events; at most 20 are accepted (as Synapse)'],
    ['21 prev_events of which 20 are duplicates', { prev_events: Array(21).fill('$p') }, 'prev_events lists 21 events; at most 20 are accepted (as Synapse)'],
    ['11 auth_events', { auth_events: ids(11, 'a') }, 'auth_events lists 11 events; at most 10 are accepted (as Synapse)'],
    ['20,000 prev_events', { prev_events: ids(20_000, 'p') }, 'prev_events lists 20000 events; at most 20 are accepted (as Synapse)'],
  ])('refuses an event with %s', (_name, extra, why) => {
    const pdu = message(extra);
    expect(readPdu(JSON.stringify(pdu), pdu, V10)).toEqual({ ok: false, reason: why });
  });

  it('reads a stored PDU without the checks on receipt (an event stored before they existed stays readable)', () => {
    const pdu = message({ prev_events: ids(21, 'p') });
    const result = readPdu(JSON.stringify(pdu), pdu, V10, { stored: true });
    expect(result.ok && result.event.prev_events.length).toBe(21);
  });
});

describe('roomIdOfPdu (issue 19, item 6)', () => {
  it('gives a reason, not a throw, for a v12 m.room.create with no canonical JSON form', () => {
    const create = { type: 'm.room.create', state_key: '', sender: '@a:hs1.test', content: { room_version: '12', x: 'a\ud800' },
      depth: 1, origin_server_ts: 1, prev_events: [], auth_events: [], hashes: { sha256: 'x' }, signatures: {} };
    expect(roomIdOfPdu(create, V12)).toEqual({ ok: false, reason: 'the event has no canonical JSON form: string contains a lone UTF-16 surrogate: "a\\ud800"' });
  });
});
