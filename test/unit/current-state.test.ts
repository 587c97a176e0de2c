/**
 * chooseCurrentState: where branches disagree about a (room, type, state_key), the greatest depth wins, then the
 * greater origin_server_ts, then the greater event_id, whatever order the candidates come in; and the membership
 * and member server an m.room.member entry carries.
 */
import { chooseCurrentState, type StateCandidate } from '../../src/core/current-state';

const ROOM = '!state:hs1.test';

function candidate(overrides: Partial<StateCandidate> & { event_id: string }): StateCandidate {
  const type = overrides.type ?? 'm.room.name';
  const content = type === 'm.room.member' ? { membership: 'join' } : { name: overrides.event_id };
  return {
    room_id: ROOM,
    type,
    state_key: '',
    sender: '@alice:hs1.test',
    depth: 5,
    origin_server_ts: 1000,
    pdu: JSON.stringify({ type, content }),
    ...overrides,
  };
}

/** Every order of the candidates chooses the same winner. */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

function winnerIds(candidates: readonly StateCandidate[]): string[] {
  return chooseCurrentState(candidates).map((entry) => entry.event_id);
}

describe('chooseCurrentState: which event is current', () => {
  it('returns nothing for no candidates', () => {
    expect(chooseCurrentState([])).toEqual([]);
  });

  it('chooses the greatest depth, even against a later origin_server_ts and a greater event_id', () => {
    const deep = candidate({ event_id: '$a', depth: 7, origin_server_ts: 1000 });
    const shallow = candidate({ event_id: '$z', depth: 6, origin_server_ts: 9999 });
    for (const order of permutations([deep, shallow])) expect(winnerIds(order)).toEqual(['$a']);
  });

  it('at equal depth, chooses the greater origin_server_ts, even against a greater event_id', () => {
    const later = candidate({ event_id: '$a', origin_server_ts: 2000 });
    const earlier = candidate({ event_id: '$z', origin_server_ts: 1999 });
    for (const order of permutations([later, earlier])) expect(winnerIds(order)).toEqual(['$a']);
  });

  it('at equal depth and origin_server_ts, chooses the greater event_id (code-unit order)', () => {
    const events = ['$B', '$a', '$Z', '$b'].map((event_id) => candidate({ event_id }));
    for (const order of permutations(events)) expect(winnerIds(order)).toEqual(['$b']);
  });

  it('keeps one winner per (room_id, type, state_key)', () => {
    const entries = chooseCurrentState([
      candidate({ event_id: '$name1', depth: 3 }),
      candidate({ event_id: '$name2', depth: 4 }),
      candidate({ event_id: '$topic', type: 'm.room.topic' }),
      candidate({ event_id: '$other-room', room_id: '!other:hs1.test' }),
      candidate({ event_id: '$member-a', type: 'm.room.member', state_key: '@a:hs1.test' }),
      candidate({ event_id: '$member-b', type: 'm.room.member', state_key: '@b:hs1.test' }),
    ]);
    expect(entries.map((entry) => [entry.room_id, entry.type, entry.state_key, entry.event_id])).toEqual([
      [ROOM, 'm.room.name', '', '$name2'],
      [ROOM, 'm.room.topic', '', '$topic'],
      ['!other:hs1.test', 'm.room.name', '', '$other-room'],
      [ROOM, 'm.room.member', '@a:hs1.test', '$member-a'],
      [ROOM, 'm.room.member', '@b:hs1.test', '$member-b'],
    ]);
  });
});

describe('chooseCurrentState: what an entry carries', () => {
  it('a member event: membership, the member server (with its port) and the content as JSON', () => {
    const content = { membership: 'join', displayname: 'A' };
    const [entry] = chooseCurrentState([
      candidate({
        event_id: '$join',
        type: 'm.room.member',
        state_key: '@a:hs.test:8448',
        sender: '@a:hs.test:8448',
        pdu: JSON.stringify({ type: 'm.room.member', content }),
      }),
    ]);
    expect(entry).toEqual({
      room_id: ROOM,
      type: 'm.room.member',
      state_key: '@a:hs.test:8448',
      event_id: '$join',
      sender: '@a:hs.test:8448',
      content: JSON.stringify(content),
      membership: 'join',
      member_server: 'hs.test:8448',
    });
  });

  it('a member event: the member server is the state_key’s, not the sender’s (an invite)', () => {
    const [entry] = chooseCurrentState([
      candidate({
        event_id: '$invite',
        type: 'm.room.member',
        state_key: '@b:[::1]:8448',
        sender: '@alice:hs1.test',
        pdu: JSON.stringify({ content: { membership: 'invite' } }),
      }),
    ]);
    expect([entry!.membership, entry!.member_server]).toEqual(['invite', '[::1]:8448']);
  });

  it('a member event whose membership is not a string: membership null, member server kept', () => {
    const [entry] = chooseCurrentState([
      candidate({
        event_id: '$odd',
        type: 'm.room.member',
        state_key: '@c:hs2.test',
        pdu: JSON.stringify({ content: { membership: 7 } }),
      }),
    ]);
    expect([entry!.membership, entry!.member_server, entry!.content]).toEqual([null, 'hs2.test', '{"membership":7}']);
  });

  it('a redacted-looking event without content: content {}', () => {
    const [entry] = chooseCurrentState([candidate({ event_id: '$bare', pdu: JSON.stringify({ type: 'm.room.name' }) })]);
    expect(entry!.content).toBe('{}');
  });

  it('another state event: membership and member_server are null', () => {
    const [entry] = chooseCurrentState([
      candidate({ event_id: '$name', pdu: JSON.stringify({ content: { name: 'Room', membership: 'join' } }) }),
    ]);
    expect(entry).toEqual({
      room_id: ROOM,
      type: 'm.room.name',
      state_key: '',
      event_id: '$name',
      sender: '@alice:hs1.test',
      content: '{"name":"Room","membership":"join"}',
      membership: null,
      member_server: null,
    });
  });
});
