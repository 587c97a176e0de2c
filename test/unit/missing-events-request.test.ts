/**
 * parseMissingEventsRequest: the room ID and body of POST /_matrix/federation/v1/get_missing_events/{roomId}.
 * A value of the wrong JSON type is M_BAD_JSON, a value of the right type out of bounds is M_INVALID_PARAM, and the
 * message names the field.
 */
import { MatrixError } from '../../src/errors';
import { parseMissingEventsRequest, type MissingEventsLimits } from '../../src/core/missing-events-request';

const ROOM = '!room:example.org';
const LIMITS: MissingEventsLimits = { maxLimit: 20, maxLatestEvents: 3, maxEarliestEvents: 4 };

function parse(body: unknown, roomId = ROOM) {
  return parseMissingEventsRequest(roomId, body, LIMITS);
}

/** The error parse throws, as {errcode, error, status}. */
function failure(body: unknown, roomId = ROOM): { errcode: string; error: string; status: number } {
  try {
    parse(body, roomId);
  } catch (error) {
    if (!(error instanceof MatrixError)) throw error;
    return { ...error.toJSON(), status: error.status };
  }
  throw new Error(`parse accepted ${JSON.stringify(body)}`);
}

const badJson = (error: string) => ({ errcode: 'M_BAD_JSON', error, status: 400 });
const invalidParam = (error: string) => ({ errcode: 'M_INVALID_PARAM', error, status: 400 });
const NOT_AN_EVENT_ID = 'is not an event ID (a "$" sigil, at most 255 bytes)';

describe('parseMissingEventsRequest: defaults', () => {
  it('an empty body: no events, limit 10, min_depth 0', () => {
    expect(parse({})).toEqual({ room_id: ROOM, latest_events: [], earliest_events: [], limit: 10, min_depth: 0 });
  });

  it('a full body is returned as given', () => {
    expect(parse({ latest_events: ['$l1', '$l2'], earliest_events: ['$e1'], limit: 7, min_depth: 3 })).toEqual({
      room_id: ROOM,
      latest_events: ['$l1', '$l2'],
      earliest_events: ['$e1'],
      limit: 7,
      min_depth: 3,
    });
  });

  it('ignores unknown fields', () => {
    expect(parse({ latest_events: ['$l'], room_version: 10, extra: { nested: [1] } })).toEqual({
      room_id: ROOM,
      latest_events: ['$l'],
      earliest_events: [],
      limit: 10,
      min_depth: 0,
    });
  });
});

describe('parseMissingEventsRequest: the body', () => {
  it.each([
    ['an array', []],
    ['null', null],
    ['a string', '{}'],
    ['a number', 5],
  ])('%s is M_BAD_JSON', (_name, body) => {
    expect(failure(body)).toEqual(badJson('The request body must be a JSON object'));
  });
});

describe.each(['latest_events', 'earliest_events'] as const)('parseMissingEventsRequest: %s', (field) => {
  const max = field === 'latest_events' ? LIMITS.maxLatestEvents : LIMITS.maxEarliestEvents;

  it.each([
    ['a string', '$a'],
    ['an object', { 0: '$a' }],
    ['null', null],
    ['a number', 1],
  ])('%s is M_BAD_JSON naming the field', (_name, value) => {
    expect(failure({ [field]: value })).toEqual(badJson(`${field} must be an array of event IDs`));
  });

  it.each([
    ['a number', 1],
    ['null', null],
    ['an array', ['$a']],
  ])('an entry that is %s is M_BAD_JSON naming the entry', (_name, entry) => {
    expect(failure({ [field]: ['$ok', entry] })).toEqual(badJson(`${field}[1] must be a string (an event ID)`));
  });

  it.each([
    ['has no $ sigil', 'abc'],
    ['is only the sigil', '$'],
    ['is empty', ''],
    ['is 256 bytes', `$${'a'.repeat(255)}`],
    ['is 256 bytes of UTF-8 (128 characters)', `$${'é'.repeat(127)}a`],
  ])('an entry that %s is M_INVALID_PARAM naming the entry', (_name, entry) => {
    expect(failure({ [field]: ['$ok', entry] })).toEqual(invalidParam(`${field}[1] ${NOT_AN_EVENT_ID}`));
  });

  it('accepts an entry of exactly 255 bytes', () => {
    const longest = `$${'a'.repeat(254)}`;
    expect(parse({ [field]: [longest] })[field]).toEqual([longest]);
  });

  it('accepts exactly the maximum number of entries', () => {
    const ids = Array.from({ length: max }, (_, i) => `$e${i}`);
    expect(parse({ [field]: ids })[field]).toEqual(ids);
  });

  it('refuses one entry more than the maximum with M_INVALID_PARAM', () => {
    const ids = Array.from({ length: max + 1 }, (_, i) => `$e${i}`);
    expect(failure({ [field]: ids })).toEqual(invalidParam(`${field} lists more than ${max} event IDs`));
  });

  it('collapses duplicates, keeping the order of first appearance', () => {
    expect(parse({ [field]: ['$b', '$a', '$b'] })[field]).toEqual(['$b', '$a']);
  });

  it('counts duplicates against the maximum (the list as sent)', () => {
    const ids = Array.from({ length: max + 1 }, () => '$same');
    expect(failure({ [field]: ids })).toEqual(invalidParam(`${field} lists more than ${max} event IDs`));
  });
});

describe('parseMissingEventsRequest: limit', () => {
  it.each([
    [1, 1],
    [20, 20],
    [21, 20],
    [1e30, 20],
  ])('%p gives %p (clamped to maxLimit 20)', (limit, expected) => {
    expect(parse({ limit }).limit).toBe(expected);
  });

  it.each([0, -1])('%p is M_INVALID_PARAM', (limit) => {
    expect(failure({ limit })).toEqual(invalidParam('limit must be at least 1'));
  });

  it('1.5 is M_INVALID_PARAM', () => {
    expect(failure({ limit: 1.5 })).toEqual(invalidParam('limit must be an integer'));
  });

  it.each([
    ['the string "10"', '10'],
    ['null', null],
    ['true', true],
    ['an array', [10]],
  ])('%s is M_BAD_JSON', (_name, limit) => {
    expect(failure({ limit })).toEqual(badJson('limit must be an integer'));
  });
});

describe('parseMissingEventsRequest: min_depth', () => {
  it.each([0, 5, Number.MAX_SAFE_INTEGER])('%p is accepted as given', (min_depth) => {
    expect(parse({ min_depth }).min_depth).toBe(min_depth);
  });

  it('-1 is M_INVALID_PARAM', () => {
    expect(failure({ min_depth: -1 })).toEqual(invalidParam('min_depth must be at least 0'));
  });

  it('1.5 is M_INVALID_PARAM', () => {
    expect(failure({ min_depth: 1.5 })).toEqual(invalidParam('min_depth must be an integer'));
  });

  it.each([2 ** 53, 2 ** 53 + 2, 1e30])('%p (beyond 2**53 - 1) is M_INVALID_PARAM', (min_depth) => {
    expect(failure({ min_depth })).toEqual(invalidParam('min_depth must be at most 9007199254740991'));
  });

  it('the string "3" is M_BAD_JSON', () => {
    expect(failure({ min_depth: '3' })).toEqual(badJson('min_depth must be an integer'));
  });
});

describe('parseMissingEventsRequest: the room ID', () => {
  it.each([
    ['a server name', '!a:example.org'],
    ['a server name with a port', '!a:example.org:8448'],
    ['an IPv6 literal with a port', '!a:[::1]:8448'],
    ['an IPv4 literal', '!a:127.0.0.1'],
    ['v12: ! and 43 URL-safe Base64 characters', `!${'Ab0-_'.repeat(8)}abc`],
    ['exactly 255 bytes', `!${'a'.repeat(242)}:example.org`],
  ])('%s is valid', (_name, roomId) => {
    expect(parse({}, roomId).room_id).toBe(roomId);
  });

  it.each([
    ['no ! sigil', 'a:b'],
    ['no server name', '!nocolon'],
    ['no opaque part', '!:example.org'],
    ['an empty server name', '!a:'],
    ['another sigil', '$a:example.org'],
    ['v12 with 42 characters', `!${'a'.repeat(42)}`],
    ['v12 with standard Base64 characters', `!${'a+/'.repeat(14)}a`],
    ['256 bytes', `!${'a'.repeat(243)}:example.org`],
  ])('%s is M_INVALID_PARAM', (_name, roomId) => {
    expect(failure({}, roomId)).toEqual(invalidParam(`"${roomId}" is not a room ID`));
  });

  it('is checked before the body', () => {
    expect(failure(null, 'a:b')).toEqual(invalidParam('"a:b" is not a room ID'));
  });
});
