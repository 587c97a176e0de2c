/**
 * assertOriginMayRead: the origin of a get_missing_events request must have a joined member in the room (Synapse's
 * assert_host_in_room) unless the room is world_readable, must pass the server ACL, and must be the creator's server
 * when the room does not federate.
 */
import { MatrixError } from '../../src/errors';
import { assertOriginMayRead, type RoomAccessFacts } from '../../src/core/room-access';

const ROOM = '!access:hs1.test';

function facts(overrides: Partial<RoomAccessFacts> = {}): RoomAccessFacts {
  return {
    room_id: ROOM,
    room_version: '10',
    create_sender: '@alice:hs1.test',
    create_content: { room_version: '10', creator: '@alice:hs1.test' },
    acl_content: null,
    history_visibility: 'shared',
    origin_joined: true,
    ...overrides,
  };
}

/** The MatrixError assertOriginMayRead throws, as {errcode, error, status}; undefined when it allows. */
function refusal(room: RoomAccessFacts, origin: string): { errcode: string; error: string; status: number } | undefined {
  try {
    assertOriginMayRead(room, origin);
    return undefined;
  } catch (error) {
    if (!(error instanceof MatrixError)) throw error;
    return { ...error.toJSON(), status: error.status };
  }
}

function forbidden(error: string) {
  return { errcode: 'M_FORBIDDEN', error, status: 403 };
}

const ACL = (content: Record<string, unknown>) => content;

describe('assertOriginMayRead', () => {
  it('allows a server with a joined member', () => {
    expect(refusal(facts(), 'hs2.test')).toBeUndefined();
  });

  it('refuses a server with no joined member', () => {
    expect(refusal(facts({ origin_joined: false }), 'hs2.test')).toEqual(forbidden(`hs2.test has no joined member in ${ROOM}`));
  });

  it.each(['invited', 'joined', 'shared'])('refuses a server with no joined member when history_visibility is %s', (visibility) => {
    const room = facts({ origin_joined: false, history_visibility: visibility });
    expect(refusal(room, 'hs2.test')).toEqual(forbidden(`hs2.test has no joined member in ${ROOM}`));
  });

  it('refuses a server with no joined member when the room has no history_visibility', () => {
    expect(refusal(facts({ origin_joined: false, history_visibility: null }), 'hs2.test')).toEqual(
      forbidden(`hs2.test has no joined member in ${ROOM}`),
    );
  });

  it('allows a server with no joined member when the room is world_readable', () => {
    const room = facts({ origin_joined: false, history_visibility: 'world_readable' });
    expect(refusal(room, 'hs2.test')).toBeUndefined();
  });

  it('allows a joined server the ACL allows', () => {
    expect(refusal(facts({ acl_content: ACL({ allow: ['*.test'], deny: ['evil.test'] }) }), 'hs2.test')).toBeUndefined();
  });

  it('refuses a server the ACL denies, even when it is joined', () => {
    const room = facts({ acl_content: ACL({ allow: ['*'], deny: ['hs2.test'] }) });
    expect(refusal(room, 'hs2.test')).toEqual(forbidden(`hs2.test is denied by the server ACL of ${ROOM}`));
  });

  it('refuses a server the ACL does not allow, even when it is joined', () => {
    const room = facts({ acl_content: ACL({ allow: ['hs1.test'] }) });
    expect(refusal(room, 'hs2.test')).toEqual(forbidden(`hs2.test is denied by the server ACL of ${ROOM}`));
  });

  it('judges the ACL without the origin’s port', () => {
    const room = facts({ acl_content: ACL({ allow: ['*'], deny: ['hs2.test'] }) });
    expect(refusal(room, 'hs2.test:8448')).toEqual(forbidden(`hs2.test:8448 is denied by the server ACL of ${ROOM}`));
  });

  it('refuses a server the ACL denies, even when the room is world_readable', () => {
    const room = facts({
      origin_joined: false,
      acl_content: ACL({ allow: ['*'], deny: ['hs2.test'] }),
      history_visibility: 'world_readable',
    });
    expect(refusal(room, 'hs2.test')).toEqual(forbidden(`hs2.test is denied by the server ACL of ${ROOM}`));
  });

  describe('a room with m.federate false', () => {
    const local = (overrides: Partial<RoomAccessFacts> = {}) =>
      facts({ create_content: { room_version: '10', 'm.federate': false }, ...overrides });

    it('allows the creator’s server', () => {
      expect(refusal(local(), 'hs1.test')).toBeUndefined();
    });

    it('refuses another server, even when it is joined', () => {
      expect(refusal(local(), 'hs2.test')).toEqual(forbidden(`${ROOM} does not federate (m.federate is false)`));
    });

    it('refuses another server, even when the room is world_readable', () => {
      const room = local({ history_visibility: 'world_readable' });
      expect(refusal(room, 'hs2.test')).toEqual(forbidden(`${ROOM} does not federate (m.federate is false)`));
    });

    it('compares the whole server name, port included', () => {
      const room = local({ create_sender: '@alice:hs1.test:8448' });
      expect(refusal(room, 'hs1.test:8448')).toBeUndefined();
      expect(refusal(room, 'hs1.test')).toEqual(forbidden(`${ROOM} does not federate (m.federate is false)`));
    });

    it('still requires the creator’s server to be joined', () => {
      expect(refusal(local({ origin_joined: false }), 'hs1.test')).toEqual(forbidden(`hs1.test has no joined member in ${ROOM}`));
    });
  });

  it.each([
    ['"false"', 'false'],
    ['0', 0],
    ['null', null],
    ['{}', {}],
    ['"true"', 'true'],
  ])('takes m.federate %s as not federating, as Synapse does (only absent or exactly true federates)', (shown, value) => {
    const room = facts({ create_content: { room_version: '10', 'm.federate': value } });
    expect(refusal(room, 'hs2.test')).toEqual(forbidden(`${ROOM} does not federate (m.federate is ${shown})`));
    expect(refusal(room, 'hs1.test')).toBeUndefined();
  });

  it('lets any joined server read a room whose m.federate is true or absent', () => {
    expect(refusal(facts({ create_content: { 'm.federate': true } }), 'hs2.test')).toBeUndefined();
    expect(refusal(facts({ create_content: {} }), 'hs2.test')).toBeUndefined();
  });
});
