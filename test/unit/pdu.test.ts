/**
 * readPdu on events that have no canonical JSON form (found by the importer fuzz: a lone surrogate in `hashes`
 * made the whole import fail): the line is refused with a reason, nothing is thrown.
 */
import { readPdu } from '../../src/core/pdu';
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
