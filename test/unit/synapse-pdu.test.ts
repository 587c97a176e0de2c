/**
 * A Synapse database row turned into the PDU Synapse sends over federation (src/importer/synapse-pdu.ts), on events
 * hashed and signed like a homeserver's: `unsigned` as a peer keeps it, redactions applied as Synapse's
 * `_maybe_redact_event_row` applies them, and the rows Synapse itself would not load refused with a reason.
 */
import { computeEventId, hashAndSignEvent } from '../../src/core/event-hashes';
import { redactEvent } from '../../src/core/redaction';
import { generateSigningKey } from '../../src/core/signing';
import { getRoomVersion } from '../../src/core/room-versions';
import { eventFormatOf, isRedacted, synapseFederationPdu, type SynapseEventRow, type SynapseRedaction } from '../../src/importer/synapse-pdu';

const KEY = generateSigningKey('unit');
const NOW = 1_700_000_100_000;
const ROOM = '!room:hs1.test';

function signedEvent(versionId: string, fields: Record<string, unknown>): Record<string, unknown> {
  const version = getRoomVersion(versionId)!;
  const base: Record<string, unknown> = {
    room_id: ROOM,
    sender: '@alice:hs1.test',
    origin_server_ts: 1_700_000_000_000,
    depth: 5,
    prev_events: version.referencesAreHashPairs ? [['$prev:hs1.test', { sha256: 'x' }]] : ['$prev'],
    auth_events: [],
    ...(version.eventIdFormat === 'carried' ? { event_id: '$event:hs1.test', origin: 'hs1.test' } : {}),
    ...fields,
  };
  return hashAndSignEvent(base, version, 'hs1.test', KEY);
}

function row(versionId: string, event: Record<string, unknown>, extra: Partial<SynapseEventRow> = {}): SynapseEventRow {
  const version = getRoomVersion(versionId)!;
  return {
    event_id: computeEventId(event, version)!,
    room_id: ROOM,
    json: JSON.stringify(event),
    internal_metadata: '{}',
    format_version: eventFormatOf(version),
    room_version: versionId,
    rejected_reason: null,
    ...extra,
  };
}

const message = (versionId: string, unsigned: Record<string, unknown> = { age_ts: 1_700_000_000_500 }) => ({
  ...signedEvent(versionId, { type: 'm.room.message', content: { msgtype: 'm.text', body: 'hello' } }),
  unsigned,
});

describe('synapseFederationPdu', () => {
  test('gives the stored event with unsigned.age_ts turned into age', () => {
    const event = message('10');
    const result = synapseFederationPdu(row('10', event), [], NOW);
    const { unsigned: _unsigned, ...signed } = event;
    expect(result).toEqual({ ok: true, pdu: { ...signed, unsigned: { age: 99_500 } }, redacted: false, rejected: false });
  });

  test('drops Synapse\'s own unsigned fields, keeping a member event\'s invite_room_state and knock_room_state', () => {
    const internal = { age_ts: NOW - 10, replaces_state: '$old', prev_content: { body: 'x' }, prev_sender: '@x:hs1.test', redacted_because: {} };
    const stripped = [{ type: 'm.room.name', state_key: '', content: { name: 'Room' }, sender: '@alice:hs1.test' }];
    const messageResult = synapseFederationPdu(row('10', message('10', internal)), [], NOW);
    expect(messageResult.ok && messageResult.pdu.unsigned).toEqual({ age: 10 });

    const invite = {
      ...signedEvent('10', { type: 'm.room.member', state_key: '@bob:hs2.test', content: { membership: 'invite' } }),
      unsigned: { ...internal, invite_room_state: stripped, knock_room_state: stripped },
    };
    const inviteResult = synapseFederationPdu(row('10', invite), [], NOW);
    expect(inviteResult.ok && inviteResult.pdu.unsigned).toEqual({ age: 10, invite_room_state: stripped, knock_room_state: stripped });
  });

  test('gives an empty unsigned when nothing of it survives, as Synapse always sends the key', () => {
    const result = synapseFederationPdu(row('10', message('10', {})), [], NOW);
    expect(result.ok && result.pdu.unsigned).toEqual({});
    const none = signedEvent('10', { type: 'm.room.message', content: {} });
    const noUnsigned = synapseFederationPdu(row('10', none), [], NOW);
    expect(noUnsigned.ok && noUnsigned.pdu.unsigned).toEqual({});
  });

  test.each(['1', '3', '10', '11', '12'])('room version %s: the event ID is carried only where the format has it', (versionId) => {
    const result = synapseFederationPdu(row(versionId, message(versionId)), [], NOW);
    expect(result.ok).toBe(true);
    expect(result.ok && 'event_id' in result.pdu).toBe(versionId === '1');
  });

  test.each(['1', '10', '11', '12'])('room version %s: a redacted event is sent pruned by the room version\'s algorithm', (versionId) => {
    const event = message(versionId, { age_ts: NOW - 7, replaces_state: '$old' });
    const result = synapseFederationPdu(row(versionId, event), [{ event_id: '$redaction', confirmed: true }], NOW);
    const { unsigned: _unsigned, ...signed } = event;
    expect(result).toEqual({
      ok: true,
      pdu: { ...redactEvent(signed, getRoomVersion(versionId)!), unsigned: { age: 7 } },
      redacted: true,
      rejected: false,
    });
    // Pruning keeps what the event ID is computed from.
    expect(result.ok && computeEventId(result.pdu, getRoomVersion(versionId)!)).toBe(row(versionId, event).event_id);
  });

  test('a rejected event is given, marked rejected', () => {
    const result = synapseFederationPdu(row('10', message('10'), { rejected_reason: 'auth_error' }), [], NOW);
    expect(result.ok && result.rejected).toBe(true);
  });

  test('a format-1 row stored before Synapse recorded formats (format_version null) is read as format 1', () => {
    expect(synapseFederationPdu(row('1', message('1'), { format_version: null }), [], NOW).ok).toBe(true);
    expect(synapseFederationPdu(row('10', message('10'), { format_version: null }), [], NOW)).toEqual({
      ok: false,
      reason: 'event format 1 is not room version 10\'s (3)',
    });
  });

  test.each([
    ['not JSON', { json: '{"type":' }, 'event_json.json is not a JSON object'],
    ['JSON but not an object', { json: '[1]' }, 'event_json.json is not a JSON object'],
    ['bad internal metadata', { internal_metadata: 'nope' }, 'event_json.internal_metadata is not a JSON object'],
    [
      'an out-of-band membership',
      { internal_metadata: '{"out_of_band_membership":true}' },
      'an out-of-band membership event (received outside the room), which Synapse does not serve for the room',
    ],
    ['an unknown room version', { room_version: 'org.example.custom' }, 'room version "org.example.custom" is not supported'],
    ['a format that is not the room version\'s', { format_version: 2 }, 'event format 2 is not room version 10\'s (3)'],
    ['an event ID the JSON does not give', { event_id: '$other' }, expect.stringMatching(/^its JSON gives the event ID \$\S+, not the one stored$/)],
  ])('gives no PDU for a row with %s (Synapse would not load it, or not serve it for the room)', (_name, change, reason) => {
    expect(synapseFederationPdu({ ...row('10', message('10')), ...change }, [], NOW)).toEqual({ ok: false, reason });
  });

  test('a member event of a room with no rooms row gets Synapse\'s guess; any other event is refused', () => {
    const member = { ...signedEvent('3', { type: 'm.room.member', state_key: '@bob:hs2.test', content: { membership: 'invite' } }), unsigned: {} };
    expect(synapseFederationPdu(row('3', member, { room_version: null }), [], NOW).ok).toBe(true);
    expect(synapseFederationPdu(row('10', message('10'), { room_version: null }), [], NOW)).toEqual({
      ok: false,
      reason: `room ${ROOM} has no row in the rooms table, so its room version is unknown`,
    });
  });
});

describe('isRedacted', () => {
  const event = { type: 'm.room.message', room_id: ROOM, sender: '@alice:hs1.test' };
  const unconfirmed = (redaction: Partial<NonNullable<SynapseRedaction['redaction']>> | undefined): SynapseRedaction => ({
    event_id: '$redaction',
    confirmed: false,
    redaction: redaction === undefined ? undefined : { room_id: ROOM, sender: '@mod:hs2.test', rejected: false, recheck_redaction: false, ...redaction },
  });

  test('no redaction: not redacted', () => {
    expect(isRedacted(event, ROOM, [])).toBe(false);
  });

  test('a confirmed redaction applies as it stands', () => {
    expect(isRedacted(event, ROOM, [{ event_id: '$r', confirmed: true }])).toBe(true);
  });

  test('an m.room.create is never redacted', () => {
    expect(isRedacted({ ...event, type: 'm.room.create' }, ROOM, [{ event_id: '$r', confirmed: true }])).toBe(false);
  });

  test('an unconfirmed redaction applies only when Synapse has it, accepted, in the same room', () => {
    expect(isRedacted(event, ROOM, [unconfirmed({})])).toBe(true);
    expect(isRedacted(event, ROOM, [unconfirmed(undefined)])).toBe(false);
    expect(isRedacted(event, ROOM, [unconfirmed({ rejected: true })])).toBe(false);
    expect(isRedacted(event, ROOM, [unconfirmed({ room_id: '!other:hs1.test' })])).toBe(false);
  });

  test('an unconfirmed redaction to recheck applies only from the redacted event\'s server', () => {
    expect(isRedacted(event, ROOM, [unconfirmed({ recheck_redaction: true })])).toBe(false);
    expect(isRedacted(event, ROOM, [unconfirmed({ recheck_redaction: true, sender: '@alice2:hs1.test' })])).toBe(true);
    expect(isRedacted(event, ROOM, [unconfirmed({ recheck_redaction: true }), unconfirmed({})])).toBe(true);
  });
});

test('eventFormatOf gives Synapse\'s event format versions', () => {
  expect(['1', '2', '3', '4', '10', '11', '12'].map((id) => eventFormatOf(getRoomVersion(id)!))).toEqual([1, 1, 2, 3, 3, 3, 4]);
});
