/**
 * State resolution v2 and v2.1 (src/core/state-resolution-v2.ts and its parts) on the scenarios the homeservers
 * test, rebuilt here as small DAGs: Synapse's tests/state/test_v2.py and test_v21.py, ruma's state-res fixtures
 * (crates/ruma-state-res/tests/it/resolve, MSC4297's problems A and B among them), gomatrixserverlib's
 * stateresolutionv2_test.go, and one test for each bug the implementations met.
 */
import { authChain, authDifference, conflictedStateSubgraph, fullAuthChain } from '../../src/core/auth-chain';
import { mainlineOrdering, mainlinePosition } from '../../src/core/mainline-ordering';
import { isPowerEvent, reverseTopologicalPowerOrdering } from '../../src/core/power-events';
import { getRoomVersion, type RoomVersion } from '../../src/core/room-versions';
import { stateKey, type StateMap } from '../../src/core/state-event';
import { resolveStateV2, splitConflicted } from '../../src/core/state-resolution-v2';
import { buildFromEdges, named, resolveAtOnce, resolveByPrevEvents, RoomDag, type EventSpec } from '../helpers/state-dag';

const V10 = getRoomVersion('10')!;
const V11 = getRoomVersion('11')!;
const V12 = getRoomVersion('12')!;

const ALICE = '@alice:example.com';
const BOB = '@bob:example.com';
const CHARLIE = '@charlie:example.com';
const EVELYN = '@evelyn:example.com';
const ZARA = '@zara:example.com';
const ELLA = '@ella:example.com';
const JOIN = { membership: 'join' };

/** An event spec in one line: id, sender, type, state_key, content, ts, prev_events, auth_events. */
function ev(
  id: string, sender: string, type: string, key: string | undefined, content: Record<string, unknown>,
  ts = 0, prev: string[] = [], auth: string[] = [],
): EventSpec {
  return { id, sender, type, ...(key === undefined ? {} : { state_key: key }), content, ts, prev, auth };
}

function dagOf(version: RoomVersion, specs: readonly EventSpec[], roomId = '!room:example.com'): RoomDag {
  const dag = new RoomDag(version, version.roomIdIsCreateEventId ? `!${specs[0]!.id.slice(1)}` : roomId);
  for (const spec of specs) dag.add(spec);
  return dag;
}

const resolverFor = (dag: RoomDag) => (sets: readonly StateMap[]) => resolveStateV2(dag.version, sets, dag.fetchEvent);

describe('Synapse tests/state/test_v2.py', () => {
  // INITIAL_EVENTS and INITIAL_EDGES: every graph starts with these, END and START being messages.
  const INITIAL: EventSpec[] = [
    ev('CREATE', ALICE, 'm.room.create', '', { creator: ALICE }),
    ev('IMA', ALICE, 'm.room.member', ALICE, JOIN),
    ev('IPOWER', ALICE, 'm.room.power_levels', '', { users: { [ALICE]: 100 } }),
    ev('IJR', ALICE, 'm.room.join_rules', '', { join_rule: 'public' }),
    ev('IMB', BOB, 'm.room.member', BOB, JOIN),
    ev('IMC', CHARLIE, 'm.room.member', CHARLIE, JOIN),
    ev('IMZ', ZARA, 'm.room.member', ZARA, JOIN),
    ev('START', ZARA, 'm.room.message', undefined, {}),
    ev('END', ZARA, 'm.room.message', undefined, {}),
  ];
  const INITIAL_EDGES = ['START', 'IMZ', 'IMC', 'IMB', 'IJR', 'IPOWER', 'IMA', 'CREATE'];

  /** The state at END must be the state at START with the expected events over it, and nothing else. */
  function check(version: RoomVersion, events: EventSpec[], edges: string[][], expected: string[]) {
    const dag = new RoomDag(version, '!test:example.com');
    const states = buildFromEdges(dag, [...INITIAL, ...events], [INITIAL_EDGES, ...edges], resolverFor(dag));
    const want = new Map([...states.get('START')!, ...dag.state(expected)]);
    expect(named(states.get('END')!)).toEqual(named(want));
  }

  describe.each([['10', V10], ['11', V11]] as const)('room version %s', (_id, version) => {
    it('ban vs power levels: the ban wins over the banned moderator\'s power levels', () => {
      check(version, [
        ev('PA', ALICE, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 50 } }),
        ev('MA', ALICE, 'm.room.member', ALICE, JOIN),
        ev('MB', ALICE, 'm.room.member', BOB, { membership: 'ban' }),
        ev('PB', BOB, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 50 } }),
      ], [['END', 'MB', 'MA', 'PA', 'START'], ['END', 'PB', 'PA']], ['PA', 'MA', 'MB']);
    });

    it('join rule evasion: a join concurrent with a private join rule loses', () => {
      check(version, [
        ev('JR', ALICE, 'm.room.join_rules', '', { join_rule: 'private' }),
        ev('ME', EVELYN, 'm.room.member', EVELYN, JOIN),
      ], [['END', 'JR', 'START'], ['END', 'ME', 'START']], ['JR']);
    });

    it('offtopic power levels: a chain of power level changes keeps its last link', () => {
      check(version, [
        ev('PA', ALICE, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 50 } }),
        ev('PB', BOB, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 50, [CHARLIE]: 50 } }),
        ev('PC', CHARLIE, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 50, [CHARLIE]: 0 } }),
      ], [['END', 'PC', 'PB', 'PA', 'START'], ['END', 'PA']], ['PC']);
    });

    it('topic basic: a demoted user\'s topic loses', () => {
      check(version, [
        ev('T1', ALICE, 'm.room.topic', '', {}),
        ev('PA1', ALICE, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 50 } }),
        ev('T2', ALICE, 'm.room.topic', '', {}),
        ev('PA2', ALICE, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 0 } }),
        ev('PB', BOB, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 50 } }),
        ev('T3', BOB, 'm.room.topic', '', {}),
      ], [['END', 'PA2', 'T2', 'PA1', 'T1', 'START'], ['END', 'T3', 'PB', 'PA1']], ['PA2', 'T2']);
    });

    it('topic reset: a banned user\'s topic goes back to the topic before it', () => {
      check(version, [
        ev('T1', ALICE, 'm.room.topic', '', {}),
        ev('PA', ALICE, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 50 } }),
        ev('T2', BOB, 'm.room.topic', '', {}),
        ev('MB', ALICE, 'm.room.member', BOB, { membership: 'ban' }),
      ], [['END', 'MB', 'T2', 'PA', 'T1', 'START'], ['END', 'T1']], ['T1', 'MB', 'PA']);
    });

    it('topic: the last topic of the resolved power levels\' epoch wins', () => {
      check(version, [
        ev('T1', ALICE, 'm.room.topic', '', {}),
        ev('PA1', ALICE, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 50 } }),
        ev('T2', ALICE, 'm.room.topic', '', {}),
        ev('PA2', ALICE, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 0 } }),
        ev('PB', BOB, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 50 } }),
        ev('T3', BOB, 'm.room.topic', '', {}),
        ev('MZ1', ZARA, 'm.room.message', undefined, {}),
        ev('T4', ALICE, 'm.room.topic', '', {}),
      ], [['END', 'T4', 'MZ1', 'PA2', 'T2', 'PA1', 'T1', 'START'], ['END', 'MZ1', 'T3', 'PB', 'PA1']], ['T4', 'PA2']);
    });

    it('mainline sort: a topic citing the newest power levels wins over a later topic citing older ones', () => {
      check(version, [
        ev('T1', ALICE, 'm.room.topic', '', {}),
        ev('PA1', ALICE, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 50 } }),
        ev('T2', ALICE, 'm.room.topic', '', {}),
        ev('PA2', ALICE, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 50 }, events: { 'm.room.power_levels': 100 } }),
        ev('PB', BOB, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 50 } }),
        ev('T3', BOB, 'm.room.topic', '', {}),
        ev('T4', ALICE, 'm.room.topic', '', {}),
      ], [['END', 'T3', 'PA2', 'T2', 'PA1', 'T1', 'START'], ['END', 'T4', 'PB', 'PA1']], ['T3', 'PA2']);
    });
  });

  it('SimpleParamStateTestCase: two concurrent joins both stay', () => {
    const dag = dagOf(V10, [
      ev('CREATE', ALICE, 'm.room.create', '', { creator: ALICE }, 0),
      ev('IMA', ALICE, 'm.room.member', ALICE, JOIN, 1, ['CREATE'], ['CREATE']),
      ev('IJR', ALICE, 'm.room.join_rules', '', { join_rule: 'public' }, 2, ['IMA'], ['CREATE', 'IMA']),
      ev('IMB', BOB, 'm.room.member', BOB, JOIN, 3, ['IJR'], ['CREATE', 'IJR']),
      ev('IMC', CHARLIE, 'm.room.member', CHARLIE, JOIN, 4, ['IJR'], ['CREATE', 'IJR']),
    ]);
    const atBob = dag.state(['CREATE', 'IMA', 'IJR', 'IMB']);
    const atCharlie = dag.state(['CREATE', 'IMA', 'IJR', 'IMC']);
    expect(named(resolveStateV2(V10, [atBob, atCharlie], dag.fetchEvent))).toEqual(named(dag.state(['CREATE', 'IMA', 'IJR', 'IMB', 'IMC'])));
  });

  it('LexicographicalTestCase: ties in the auth DAG are broken by event ID', () => {
    // l -> o, m -> n, o, n -> o, p -> o, all sent by the same user at the same time.
    const dag = dagOf(V10, [
      ev('o', ALICE, 'm.room.topic', '', {}),
      ev('l', ALICE, 'm.room.topic', '', {}, 0, [], ['o']),
      ev('m', ALICE, 'm.room.topic', '', {}, 0, [], ['n', 'o']),
      ev('n', ALICE, 'm.room.topic', '', {}, 0, [], ['o']),
      ev('p', ALICE, 'm.room.topic', '', {}, 0, [], ['o']),
    ]);
    expect(reverseTopologicalPowerOrdering(new Set(['m', 'p', 'o', 'l', 'n']), V10, dag.fetchEvent)).toEqual(['o', 'l', 'n', 'm', 'p']);
  });

  describe('AuthChainDifferenceTestCase, with the spec\'s auth chains', () => {
    // Synapse counts each state's own events in its auth chain, so it finds {C}, {C, D} and {D, E} here; the spec's
    // full auth chain of a state is the union of its events' auth chains, which do not hold the events themselves.
    // The full conflicted set is the same either way: every key of these states is conflicted.
    const dag = dagOf(V10, [
      ev('A', ALICE, 'm.room.member', '', {}),
      ev('B', ALICE, 'm.room.member', '', {}, 0, [], ['A']),
      ev('C', ALICE, 'm.room.member', '', {}, 0, [], ['B']),
      ev('D', ALICE, 'm.room.member', '', {}, 0, [], ['C']),
      ev('E', ALICE, 'm.room.member', '', {}, 0, [], ['C', 'B']),
    ]);
    const state = (entries: Record<string, string>) => new Map(Object.entries(entries).map(([k, id]) => [stateKey(k, ''), id]));

    it('simple chain C -> B -> A', () => {
      expect(authDifference([state({ a: 'A', b: 'B' }), state({ c: 'C' })], dag.fetchEvent)).toEqual(new Set(['B']));
    });

    it('chain D -> C -> B -> A', () => {
      expect(authDifference([state({ a: 'A', b: 'B' }), state({ c: 'C', d: 'D' })], dag.fetchEvent)).toEqual(new Set(['B', 'C']));
    });

    it('different branches D -> C and E -> C, B', () => {
      expect(authDifference([state({ a: 'A', b: 'B', e: 'E' }), state({ c: 'C', d: 'D' })], dag.fetchEvent)).toEqual(new Set());
    });
  });

  it('get_power_level_for_sender: the level in the cited power levels, or the creator\'s 100 without them', () => {
    for (const version of [V10, V11]) {
      const dag = dagOf(version, [
        ev('CREATE', ALICE, 'm.room.create', '', version === V10 ? { creator: ALICE } : {}),
        ev('MA', ALICE, 'm.room.member', ALICE, JOIN, 1, ['CREATE'], ['CREATE']),
        ev('PL', ALICE, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 50 }, users_default: 10 }, 2, ['MA'], ['CREATE', 'MA']),
      ]);
      const senders = { [ALICE]: 'a', [BOB]: 'b', [CHARLIE]: 'c' };
      for (const [sender, id] of Object.entries(senders)) {
        dag.add(ev(`with-${id}`, sender, 'm.room.topic', '', {}, 3, ['PL'], ['CREATE', 'MA', 'PL']));
        dag.add(ev(`without-${id}`, sender, 'm.room.topic', '', {}, 3, ['PL'], ['CREATE', 'MA']));
      }
      // With every sender's level different, the order is the levels' order: 100, 50, 10, then 100, 0, 0 by ID.
      const ids = new Set(Object.values(senders).flatMap((id) => [`with-${id}`, `without-${id}`]));
      expect(reverseTopologicalPowerOrdering(ids, version, dag.fetchEvent)).toEqual(
        ['with-a', 'without-a', 'with-b', 'with-c', 'without-b', 'without-c'],
      );
    }
  });
});

describe('Synapse tests/state/test_v21.py (room version 12)', () => {
  it('state reset, replay of the conflicted subgraph: an old power levels cited by a rename cannot reset the room', () => {
    const dag = dagOf(V12, [
      ev('$e1-create', ALICE, 'm.room.create', '', { room_version: '12' }, 1),
      ev('$e2-ma', ALICE, 'm.room.member', ALICE, JOIN, 2, ['$e1-create'], []),
      ev('$e3-power1', ALICE, 'm.room.power_levels', '', { users: {} }, 3, [], ['$e2-ma']),
      ev('$e4-jr', ALICE, 'm.room.join_rules', '', { join_rule: 'public' }, 4, [], ['$e2-ma', '$e3-power1']),
      ev('$e5-mb', BOB, 'm.room.member', BOB, JOIN, 5, [], ['$e3-power1', '$e4-jr']),
      ev('$e6-mc', CHARLIE, 'm.room.member', CHARLIE, JOIN, 6, [], ['$e3-power1', '$e4-jr']),
      ev('$e7-power2', ALICE, 'm.room.power_levels', '', { users: { [BOB]: 50 } }, 7, [], ['$e2-ma', '$e3-power1']),
      ev('$e8-power3', BOB, 'm.room.power_levels', '', { users: { [BOB]: 50, [CHARLIE]: 50 } }, 8, [], ['$e5-mb', '$e7-power2']),
      ev('$e9-me1', EVELYN, 'm.room.member', EVELYN, JOIN, 9, [], ['$e8-power3', '$e4-jr']),
      // Eve renames herself citing the old power levels directly, and the new ones through her own join.
      ev('$e10-me2', EVELYN, 'm.room.member', EVELYN, JOIN, 10, [], ['$e3-power1', '$e4-jr', '$e9-me1']),
      ev('$e11-mz', ZARA, 'm.room.member', ZARA, JOIN, 11, [], ['$e8-power3', '$e4-jr']),
    ]);
    const common = ['$e1-create', '$e2-ma', '$e5-mb', '$e6-mc', '$e4-jr'];
    const dodgyAfterEveRename = dag.state([...common, '$e10-me2', '$e3-power1']);
    const afterZaraJoins = dag.state([...common, '$e11-mz', '$e8-power3']);
    // me2 is replayed first (power 1 epoch), then me1 (power 3 epoch).
    expect(named(resolveStateV2(V12, [dodgyAfterEveRename, afterZaraJoins], dag.fetchEvent))).toEqual(
      named(dag.state([...common, '$e9-me1', '$e11-mz', '$e8-power3'])),
    );
    // The create event is in no auth chain in v12, so neither in the auth difference nor in the subgraph.
    const { conflicted } = splitConflicted([dodgyAfterEveRename, afterZaraJoins]);
    expect(conflictedStateSubgraph(conflicted, dag.fetchEvent)).toEqual(
      new Set(['$e10-me2', '$e11-mz', '$e3-power1', '$e8-power3', '$e9-me1', '$e7-power2', '$e5-mb', '$e4-jr']),
    );
    expect(authDifference([dodgyAfterEveRename, afterZaraJoins], dag.fetchEvent)).toEqual(new Set(['$e9-me1']));
  });

  it('state reset from the empty set: join rules cited by the senders\' leaves are not reset to the old ones', () => {
    const dag = dagOf(V12, [
      ev('$e1-create', ALICE, 'm.room.create', '', { room_version: '12' }, 1),
      ev('$e2-ma1', ALICE, 'm.room.member', ALICE, JOIN, 2, ['$e1-create'], []),
      ev('$e3-power', ALICE, 'm.room.power_levels', '', { users: { [BOB]: 100 } }, 3, [], ['$e2-ma1']),
      ev('$e4-jr1', ALICE, 'm.room.join_rules', '', { join_rule: 'public' }, 4, [], ['$e2-ma1', '$e3-power']),
      ev('$e5-mb', BOB, 'm.room.member', BOB, JOIN, 5, [], ['$e3-power', '$e4-jr1']),
      ev('$e6-jr2', ALICE, 'm.room.join_rules', '', { join_rule: 'invite' }, 6, [], ['$e2-ma1', '$e3-power']),
      ev('$e7-ma2', ALICE, 'm.room.member', ALICE, { membership: 'leave' }, 7, [], ['$e3-power', '$e2-ma1']),
    ]);
    const common = ['$e1-create', '$e7-ma2', '$e5-mb', '$e3-power'];
    const correct = dag.state([...common, '$e6-jr2']);
    const incorrect = dag.state([...common, '$e4-jr1']);
    expect(named(resolveStateV2(V12, [correct, incorrect], dag.fetchEvent))).toEqual(named(correct));
  });
});

describe('ruma state-res fixtures', () => {
  // bootstrap-public-chat.json / bootstrap-private-chat.json, room version 10.
  function bootstrap(joinRule: 'public' | 'invite'): EventSpec[] {
    const base = ['$create', '$join-alice', '$pl-0'];
    const events = [
      ev('$create', ALICE, 'm.room.create', '', { creator: ALICE, room_version: '10' }, 0),
      ev('$join-alice', ALICE, 'm.room.member', ALICE, { displayname: 'alice', ...JOIN }, 1, ['$create'], ['$create']),
      ev('$pl-0', ALICE, 'm.room.power_levels', '', { users: { [ALICE]: 100 } }, 2, ['$join-alice'], ['$create', '$join-alice']),
      ev('$jr-0', ALICE, 'm.room.join_rules', '', { join_rule: joinRule }, 3, ['$pl-0'], base),
      ev('$hv-0', ALICE, 'm.room.history_visibility', '', { history_visibility: 'shared' }, 4, ['$jr-0'], base),
      ev('$ga-0', ALICE, 'm.room.guest_access', '', { guest_access: joinRule === 'public' ? 'forbidden' : 'can_join' }, 5, ['$hv-0'], base),
    ];
    if (joinRule === 'invite') return events;
    return [
      ...events,
      ev('$join-bob', BOB, 'm.room.member', BOB, { displayname: 'bob', ...JOIN }, 6, ['$ga-0'], ['$create', '$pl-0', '$jr-0']),
      ev('$pl-1', ALICE, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 50 } }, 7, ['$join-bob'], ['$create', '$pl-0', '$join-alice']),
    ];
  }
  const PUBLIC_STATE = ['$create', '$join-alice', '$jr-0', '$hv-0', '$ga-0', '$join-bob', '$pl-1'];

  /** As ruma's snapshot_test_batches: resolved iteratively along prev_events, and all at once, to the same state. */
  function expectResolution(specs: EventSpec[], expected: string[]) {
    const dag = dagOf(V10, specs);
    const ids = specs.map((spec) => spec.id);
    const want = named(dag.state(expected));
    expect(named(resolveByPrevEvents(dag, ids, resolverFor(dag)))).toEqual(want);
    expect(named(resolveAtOnce(dag, ids, resolverFor(dag)))).toEqual(want);
  }

  it('minimal private chat', () => {
    expectResolution(bootstrap('invite'), ['$create', '$join-alice', '$pl-0', '$jr-0', '$hv-0', '$ga-0']);
  });

  it('minimal public chat, bob a moderator', () => {
    expectResolution(bootstrap('public'), PUBLIC_STATE);
  });

  it('origin_server_ts tiebreak: of two tied join rules the later one wins, whatever their event IDs', () => {
    const base = ['$create', '$join-alice', '$pl-0'];
    expectResolution([
      ...bootstrap('invite'),
      ev('$jr-2', ALICE, 'm.room.join_rules', '', {
        join_rule: 'restricted', allow: [{ room_id: '!other:example.com', type: 'm.room_membership' }],
      }, 6, ['$ga-0'], base),
      ev('$jr-1', ALICE, 'm.room.join_rules', '', { join_rule: 'public' }, 7, ['$ga-0'], base),
    ], ['$create', '$join-alice', '$pl-0', '$jr-1', '$hv-0', '$ga-0']);
  });

  it('ban vs power levels: bob\'s power levels change is superseded by his ban', () => {
    expectResolution([
      ...bootstrap('public'),
      ev('$ban-bob', ALICE, 'm.room.member', BOB, { membership: 'ban' }, 8, ['$pl-1'], ['$create', '$pl-1', '$join-alice', '$join-bob']),
      ev('$pl-2', BOB, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 50 } }, 8, ['$pl-1'], ['$create', '$pl-1', '$join-bob']),
    ], [...PUBLIC_STATE.filter((id) => id !== '$join-bob'), '$ban-bob']);
  });

  it('topic vs power levels: bob\'s topic is superseded by his demotion', () => {
    expectResolution([
      ...bootstrap('public'),
      ev('$topic-alice', ALICE, 'm.room.topic', '', { topic: 'Room managed by Alice' }, 8, ['$pl-1'], ['$create', '$pl-1', '$join-alice']),
      ev('$pl-2-alice', ALICE, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 0 } }, 9, ['$topic-alice'], ['$create', '$pl-1', '$join-alice']),
      ev('$topic-bob', BOB, 'm.room.topic', '', { topic: 'Room topic' }, 8, ['$pl-1'], ['$create', '$pl-1', '$join-bob']),
    ], [...PUBLIC_STATE.filter((id) => id !== '$pl-1'), '$pl-2-alice', '$topic-alice']);
  });

  it('power levels admin vs mod: the moderator\'s change is superseded by his demotion', () => {
    expectResolution([
      ...bootstrap('public'),
      ev('$pl-2-alice', ALICE, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 0 } }, 8, ['$pl-1'], ['$create', '$pl-1', '$join-alice']),
      ev('$pl-2-bob', BOB, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 50 }, users_default: -1 }, 8, ['$pl-1'],
        ['$create', '$pl-1', '$join-bob']),
    ], [...PUBLIC_STATE.filter((id) => id !== '$pl-1'), '$pl-2-alice']);
  });

  it('topic vs ban: bob\'s topic is superseded by his ban', () => {
    expectResolution([
      ...bootstrap('public'),
      ev('$topic', ALICE, 'm.room.topic', '', { topic: 'Room topic' }, 8, ['$pl-1'], ['$create', '$pl-1', '$join-alice']),
      ev('$ban-bob', ALICE, 'm.room.member', BOB, { membership: 'ban' }, 8, ['$topic'], ['$create', '$pl-1', '$join-alice', '$join-bob']),
      ev('$topic-bob', BOB, 'm.room.topic', '', { topic: 'Room managed by Bob' }, 8, ['$topic'], ['$create', '$pl-1', '$join-bob']),
    ], [...PUBLIC_STATE.filter((id) => id !== '$join-bob'), '$ban-bob', '$topic']);
  });

  it('join rules vs join: ella\'s join is superseded by the invite-only join rule', () => {
    expectResolution([
      ...bootstrap('public'),
      ev('$pl-2', BOB, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 50 } }, 8, ['$pl-1'], ['$create', '$pl-1', '$join-bob']),
      ev('$jr-1', ALICE, 'm.room.join_rules', '', { join_rule: 'invite' }, 9, ['$pl-2'], ['$create', '$pl-2', '$join-alice']),
      ev('$join-ella', ELLA, 'm.room.member', ELLA, { displayname: 'ella', ...JOIN }, 9, ['$pl-2'], ['$create', '$pl-2', '$jr-0']),
    ], [...PUBLIC_STATE.filter((id) => id !== '$pl-1' && id !== '$jr-0'), '$pl-2', '$jr-1']);
  });

  it('concurrent joins both end up in the state', () => {
    expectResolution([
      ...bootstrap('public'),
      ev('$join-charlie', CHARLIE, 'm.room.member', CHARLIE, { displayname: 'charlie', ...JOIN }, 8, ['$pl-1'], ['$create', '$pl-1', '$jr-0']),
      ev('$join-ella', ELLA, 'm.room.member', ELLA, { displayname: 'ella', ...JOIN }, 8, ['$pl-1'], ['$create', '$pl-1', '$jr-0']),
    ], [...PUBLIC_STATE, '$join-charlie', '$join-ella']);
  });
});

describe('MSC4297 (ruma fixtures MSC4297-problem-A and -B): v2.0 in room version 11, v2.1 in 12', () => {
  /**
   * The same room in both versions: in v11 the create event is cited and alice is in the power levels; in v12 the
   * room ID names the create event, which no event cites, and alice is a creator, whom power levels cannot list.
   */
  type Row = [id: string, sender: string, type: string, key: string, content: Record<string, unknown>, auth: string[]];
  function room(version: RoomVersion, events: Row[]) {
    const v12 = version === V12;
    return dagOf(version, [
      ev('$create', ALICE, 'm.room.create', '', { room_version: version.id }, 0),
      ...events.map(([id, sender, type, key, content, auth], i) => {
        const users = content['users'] as Record<string, number> | undefined;
        const withAlice = users !== undefined && !v12 ? { ...content, users: { [ALICE]: 100, ...users } } : content;
        return ev(id, sender, type, key, withAlice, i + 1, [], v12 ? auth : ['$create', ...auth]);
      }),
    ]);
  }
  const member = (id: string, user: string, membership: string, name: string, auth: string[]): Row =>
    [id, user, 'm.room.member', user, { displayname: name, membership }, auth];
  const beginning: Row[] = [
    member('$join-alice', ALICE, 'join', 'alice', []),
    ['$pl-0', ALICE, 'm.room.power_levels', '', { users: {} }, ['$join-alice']],
    ['$jr-0', ALICE, 'm.room.join_rules', '', { join_rule: 'public' }, ['$join-alice', '$pl-0']],
    member('$join-bob', BOB, 'join', 'bob', ['$pl-0', '$jr-0']),
    member('$join-charlie', CHARLIE, 'join', 'charlie', ['$pl-0', '$jr-0']),
  ];

  describe('problem A: the room creator sets invite-only and leaves; bob and charlie rename concurrently', () => {
    const events: Row[] = [
      ...beginning,
      ['$jr-1', ALICE, 'm.room.join_rules', '', { join_rule: 'invite' }, ['$pl-0', '$join-alice']],
      member('$leave-alice', ALICE, 'leave', 'alice', ['$pl-0', '$join-alice']),
      member('$rename-bob', BOB, 'join', 'bob++', ['$pl-0', '$join-bob', '$jr-1']),
      member('$rename-charlie', CHARLIE, 'join', 'charlie++', ['$pl-0', '$join-charlie', '$jr-1']),
    ];
    const bobSees = ['$create', '$pl-0', '$join-charlie', '$jr-1', '$leave-alice', '$rename-bob'];
    const charlieSees = ['$create', '$pl-0', '$jr-0', '$join-bob', '$leave-alice', '$rename-charlie'];
    const members = ['$create', '$pl-0', '$leave-alice', '$rename-bob', '$rename-charlie'];

    it('v2.0 replays the join rules against the unconflicted state, where alice has left: the room loses them', () => {
      const dag = room(V11, events);
      expect(named(resolveStateV2(V11, [dag.state(bobSees), dag.state(charlieSees)], dag.fetchEvent))).toEqual(named(dag.state(members)));
    });

    it('v2.1 replays them from the empty state: the invite-only join rule stays', () => {
      const dag = room(V12, events);
      expect(named(resolveStateV2(V12, [dag.state(bobSees), dag.state(charlieSees)], dag.fetchEvent))).toEqual(
        named(dag.state([...members, '$jr-1'])),
      );
    });
  });

  describe('problem B: eve renames citing the power levels in force; zara joins; an old fork cites the first ones', () => {
    const events: Row[] = [
      ...beginning,
      ['$pl-1', ALICE, 'm.room.power_levels', '', { users: { [BOB]: 50 } }, ['$pl-0', '$join-alice']],
      ['$pl-2', BOB, 'm.room.power_levels', '', { users: { [BOB]: 50, [CHARLIE]: 50 } }, ['$pl-1', '$join-bob']],
      member('$join-zara', ZARA, 'join', 'zara', ['$pl-2', '$jr-0']),
      member('$join-eve', EVELYN, 'join', 'eve', ['$pl-2', '$jr-0']),
      member('$rename-eve', EVELYN, 'join', 'eve++', ['$pl-2', '$join-eve', '$jr-0']),
    ];
    const common = ['$create', '$join-alice', '$jr-0', '$join-bob', '$join-charlie'];
    const eveSees = [...common, '$pl-0', '$rename-eve'];
    const zaraSees = [...common, '$pl-2', '$join-zara'];

    it('v2.0 does not replay the power levels between pl-0 and pl-2: bob\'s pl-2 fails and the room resets to pl-0', () => {
      const dag = room(V11, events);
      expect(named(resolveStateV2(V11, [dag.state(eveSees), dag.state(zaraSees)], dag.fetchEvent))).toEqual(
        named(dag.state([...common, '$pl-0', '$rename-eve', '$join-zara'])),
      );
    });

    it('v2.1 replays the conflicted state subgraph (pl-1, bob\'s join): pl-2 stays', () => {
      const dag = room(V12, events);
      expect(named(resolveStateV2(V12, [dag.state(eveSees), dag.state(zaraSees)], dag.fetchEvent))).toEqual(
        named(dag.state([...common, '$pl-2', '$rename-eve', '$join-zara'])),
      );
    });
  });
});

describe('gomatrixserverlib stateresolutionv2_test.go', () => {
  // getBaseStateResV2Graph: create, alice joins, power levels, public join rules, bob and charlie join.
  const BASE: EventSpec[] = [
    ev('$CREATE', ALICE, 'm.room.create', '', { creator: ALICE }, 1),
    ev('$IMA', ALICE, 'm.room.member', ALICE, JOIN, 2, ['$CREATE'], ['$CREATE']),
    ev('$IPOWER', ALICE, 'm.room.power_levels', '', { users: { [ALICE]: 100 } }, 3, ['$IMA'], ['$CREATE', '$IMA']),
    ev('$IJR', ALICE, 'm.room.join_rules', '', { join_rule: 'public' }, 4, ['$IPOWER'], ['$CREATE', '$IMA', '$IPOWER']),
    ev('$IMB', BOB, 'm.room.member', BOB, JOIN, 5, ['$IJR'], ['$CREATE', '$IJR', '$IPOWER']),
    ev('$IMC', CHARLIE, 'm.room.member', CHARLIE, JOIN, 6, ['$IMB'], ['$CREATE', '$IJR', '$IPOWER']),
  ];
  const BASE_IDS = BASE.map((spec) => spec.id);

  it('TestLexicographicalSorting: power level descending, then origin_server_ts, then event ID', () => {
    const users = { '@d:x': 25, '@e:x': 50, '@f:x': 50, '@g:x': 75, '@h:x': 100 };
    const dag = dagOf(V10, [
      ev('PL', ALICE, 'm.room.power_levels', '', { users }),
      ...[['a', 0, 1], ['b', 0, 2], ['c', 0, 2], ['d', 25, 3], ['e', 50, 4], ['f', 50, 3], ['g', 75, 4], ['h', 100, 5]].map(
        ([id, , ts]) => ev(String(id), `@${String(id)}:x`, 'm.room.topic', '', {}, Number(ts), [], ['PL']),
      ),
    ]);
    expect(reverseTopologicalPowerOrdering(new Set(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']), V10, dag.fetchEvent)).toEqual(
      ['h', 'g', 'f', 'e', 'd', 'a', 'b', 'c'],
    );
  });

  it('TestReverseTopologicalEventSorting: the base graph sorts from the create event down', () => {
    const dag = dagOf(V10, BASE);
    expect(reverseTopologicalPowerOrdering(new Set([...BASE_IDS].reverse()), V10, dag.fetchEvent)).toEqual(BASE_IDS);
  });

  //             .- D < D2 -.
  // A < B < C <-+          +-- F < G
  //             `- E < E2 -`
  const forkDag = dagOf(V10, Object.entries({ A: [], B: ['A'], C: ['B'], D: ['C'], E: ['C'], D2: ['D'], E2: ['E'], F: ['D2', 'E2'], G: ['F'] })
    .map(([id, auth]) => ev(id, ALICE, 'm.room.topic', '', {}, 0, [], auth)));

  it.each([
    ['simple linear', ['C'], ['A', 'B']],
    ['simple fork', ['F'], ['A', 'B', 'C', 'D', 'D2', 'E', 'E2']],
    ['simple fork with redundant', ['F', 'D', 'B'], ['A', 'B', 'C', 'D', 'D2', 'E', 'E2']],
    ['linear, two starts', ['B', 'D'], ['A', 'B', 'C']],
    ['walks already walked paths', ['G', 'F', 'C', 'A'], ['A', 'B', 'C', 'D', 'D2', 'E', 'E2', 'F']],
  ])('TestCalculateFullAuthChain: %s', (_name, start, chain) => {
    expect(fullAuthChain(start, forkDag.fetchEvent)).toEqual(new Set(chain));
  });

  it.each([
    ['simple linear', ['B', 'D'], ['B', 'C', 'D']],
    ['simple fork', ['F', 'B'], ['F', 'E2', 'E', 'D2', 'D', 'C', 'B']],
    ['walks already walked paths', ['C', 'A'], ['C', 'B', 'A']],
  ])('TestCalculateFullAuthChainAndConflictedSubgraph: %s', (_name, conflicted, subgraph) => {
    expect(conflictedStateSubgraph(new Set(conflicted), forkDag.fetchEvent)).toEqual(new Set(subgraph));
  });

  it('TestStateResolutionOtherEventDoesntOverpowerPowerEvent: a kick wins over the join it kicks', () => {
    const dag = dagOf(V10, [
      ...BASE,
      ev('$JOIN2', EVELYN, 'm.room.member', EVELYN, JOIN, 7, ['$IMC'], ['$CREATE', '$IJR', '$IPOWER']),
      ev('$KICK', ALICE, 'm.room.member', EVELYN, { membership: 'leave', reason: 'testing' }, 8, ['$JOIN2'], ['$CREATE', '$IMA', '$IPOWER', '$JOIN2']),
    ]);
    const sets = [dag.state([...BASE_IDS, '$JOIN2']), dag.state([...BASE_IDS, '$KICK'])];
    expect(named(resolveStateV2(V10, sets, dag.fetchEvent))).toEqual(named(dag.state([...BASE_IDS, '$KICK'])));
  });

  it('TestStateResolutionBanVsPowerLevel, as two forks: the ban citing the later power levels wins over the join', () => {
    // gomatrixserverlib's harness calls every event sharing a key conflicted; as two real forks, PA and PB tie on
    // power and are ordered by origin_server_ts, so PB (and the ban that cites it) comes last.
    const dag = dagOf(V10, [
      ...BASE,
      ev('$PA', ALICE, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 50 } }, 7, ['$IMC'], ['$CREATE', '$IMA', '$IPOWER']),
      ev('$PB', ALICE, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 50 } }, 8, ['$IMC'], ['$CREATE', '$IMA', '$IPOWER']),
      ev('$MB', ALICE, 'm.room.member', EVELYN, { membership: 'ban' }, 9, ['$PB'], ['$CREATE', '$IMA', '$PB']),
      ev('$IME', EVELYN, 'm.room.member', EVELYN, JOIN, 10, ['$PA'], ['$CREATE', '$IJR', '$PA']),
    ]);
    const others = BASE_IDS.filter((id) => id !== '$IPOWER');
    const sets = [dag.state([...others, '$PA', '$IME']), dag.state([...others, '$PB', '$MB'])];
    expect(named(resolveStateV2(V10, sets, dag.fetchEvent))).toEqual(named(dag.state([...others, '$PB', '$MB'])));
  });

  describe('TestStateReset (gomatrixserverlib#419, #336, #421): a key missing from the partial state is read from the auth events', () => {
    // Bob joins while the room is public, renames himself; then the room goes invite-only. Bob's membership is
    // conflicted (join vs rename), so it is not in the partial state: his rename is authorised by the join it cites.
    const PL_CONTENT = { users: { [ALICE]: 100 }, state_default: 50, events: { 'm.room.power_levels': 100 } };
    const specs = [
      ev('$create', ALICE, 'm.room.create', '', { creator: ALICE, room_version: '10' }, 1),
      ev('$join-alice', ALICE, 'm.room.member', ALICE, JOIN, 1, ['$create'], ['$create']),
      ev('$pl', ALICE, 'm.room.power_levels', '', PL_CONTENT, 1, ['$join-alice'], ['$create', '$join-alice']),
      ev('$jr-public', ALICE, 'm.room.join_rules', '', { join_rule: 'public' }, 2, ['$pl'], ['$create', '$pl', '$join-alice']),
      ev('$hv', ALICE, 'm.room.history_visibility', '', { history_visibility: 'shared' }, 2, ['$jr-public'], ['$create', '$pl', '$join-alice']),
      ev('$join-bob', BOB, 'm.room.member', BOB, JOIN, 3, ['$hv'], ['$create', '$jr-public', '$pl']),
      ev('$join-charlie', CHARLIE, 'm.room.member', CHARLIE, JOIN, 3, ['$join-bob'], ['$create', '$jr-public', '$pl']),
      ev('$rename-bob', BOB, 'm.room.member', BOB, { displayname: 'Bob!', ...JOIN }, 4, ['$join-charlie'], ['$create', '$jr-public', '$pl', '$join-bob']),
      ev('$jr-invite', ALICE, 'm.room.join_rules', '', { join_rule: 'invite' }, 5, ['$rename-bob'], ['$create', '$pl', '$join-alice']),
    ];
    const common = ['$create', '$join-alice', '$pl', '$hv', '$join-charlie', '$jr-invite'];

    it('the rename stays', () => {
      const dag = dagOf(V10, specs);
      const sets = [dag.state([...common, '$join-bob']), dag.state([...common, '$rename-bob'])];
      expect(named(resolveStateV2(V10, sets, dag.fetchEvent))).toEqual(named(dag.state([...common, '$rename-bob'])));
    });

    it('without the join (rejected, or not held), bob is not in the room: the rename fails and leaves no membership', () => {
      const dag = dagOf(V10, specs);
      dag.hidden.add('$join-bob');
      const sets = [dag.state(common), dag.state([...common, '$rename-bob'])];
      expect(named(resolveStateV2(V10, sets, dag.fetchEvent))).toEqual(named(dag.state(common)));
    });
  });
});

describe('bugs the implementations met', () => {
  const ROOM: EventSpec[] = [
    ev('$create', ALICE, 'm.room.create', '', { room_version: '11' }, 0),
    ev('$join-alice', ALICE, 'm.room.member', ALICE, JOIN, 1, ['$create'], ['$create']),
    ev('$pa1', ALICE, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 50 } }, 2, ['$join-alice'], ['$create', '$join-alice']),
    ev('$jr', ALICE, 'm.room.join_rules', '', { join_rule: 'public' }, 3, ['$pa1'], ['$create', '$join-alice', '$pa1']),
    ev('$join-bob', BOB, 'm.room.member', BOB, JOIN, 4, ['$jr'], ['$create', '$jr', '$pa1']),
    ev('$pa2', ALICE, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 50 } }, 5, ['$join-bob'], ['$create', '$join-alice', '$pa1']),
  ];
  const ROOM_IDS = ['$create', '$join-alice', '$jr', '$join-bob'];

  it('synapse#8971: the mainline position walks on through power levels off the mainline', () => {
    // pb (bob, under pa2) and pc (alice demotes bob, under pa2) were concurrent; pc won. Alice's topic tx cites pb:
    // its walk goes pb (off the mainline) -> pa2 (position 1). Her topic ty cites pa1 (position 2), so tx comes
    // last and wins, although it was sent first. Looking up tx itself at every step finds no position (Infinity)
    // and would put it first.
    const dag = dagOf(V11, [
      ...ROOM,
      ev('$pb', BOB, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 50 } }, 6, ['$pa2'], ['$create', '$join-bob', '$pa2']),
      ev('$pc', ALICE, 'm.room.power_levels', '', { users: { [ALICE]: 100, [BOB]: 0 } }, 7, ['$pa2'], ['$create', '$join-alice', '$pa2']),
      ev('$tx', ALICE, 'm.room.topic', '', { topic: 'x' }, 8, ['$pb'], ['$create', '$join-alice', '$pb']),
      ev('$ty', ALICE, 'm.room.topic', '', { topic: 'y' }, 9, ['$pa2'], ['$create', '$join-alice', '$pa1']),
    ]);
    const mainline = new Map([['$pc', 0], ['$pa2', 1], ['$pa1', 2]]);
    expect(mainlinePosition(dag.events.get('$tx')!, mainline, dag.fetchEvent)).toBe(1);
    expect(mainlinePosition(dag.events.get('$ty')!, mainline, dag.fetchEvent)).toBe(2);
    expect(mainlineOrdering(['$tx', '$ty'], '$pc', dag.fetchEvent)).toEqual(['$ty', '$tx']);
    const sets = [dag.state([...ROOM_IDS, '$pc', '$ty']), dag.state([...ROOM_IDS, '$pc', '$tx'])];
    expect(named(resolveStateV2(V11, sets, dag.fetchEvent))).toEqual(named(dag.state([...ROOM_IDS, '$pc', '$tx'])));
  });

  it('ruma#2480: an event with no power levels ancestor sorts before one based on the oldest mainline event', () => {
    // Mainline [pa2, pa1]. t-old cites pa1 (position 1); t-none cites no power levels (position Infinity) and was
    // sent later. Giving t-none the oldest event's position would tie them and let t-none win on origin_server_ts.
    const dag = dagOf(V11, [
      ...ROOM,
      ev('$t-old', ALICE, 'm.room.topic', '', { topic: 'old' }, 6, ['$pa2'], ['$create', '$join-alice', '$pa1']),
      ev('$t-none', ALICE, 'm.room.topic', '', { topic: 'none' }, 7, ['$pa2'], ['$create', '$join-alice']),
      ev('$t-new', ALICE, 'm.room.topic', '', { topic: 'new' }, 5, ['$pa2'], ['$create', '$join-alice', '$pa2']),
    ]);
    expect(mainlineOrdering(['$t-new', '$t-none', '$t-old'], '$pa2', dag.fetchEvent)).toEqual(['$t-none', '$t-old', '$t-new']);
    const sets = [dag.state([...ROOM_IDS, '$pa2', '$t-old']), dag.state([...ROOM_IDS, '$pa2', '$t-none'])];
    expect(named(resolveStateV2(V11, sets, dag.fetchEvent))).toEqual(named(dag.state([...ROOM_IDS, '$pa2', '$t-old'])));
  });

  it('ruma#2035: events failing the authorization rules, or unreadable by them, are ignored, never raised', () => {
    const dag = dagOf(V11, [
      ...ROOM,
      // Zara is not in the room; bob's power levels are malformed; the member event has no membership at all.
      ev('$topic-zara', ZARA, 'm.room.topic', '', { topic: 'z' }, 6, ['$pa2'], ['$create', '$pa2']),
      ev('$pl-bad', BOB, 'm.room.power_levels', '', { users: 'everyone', ban: 'fifty' }, 7, ['$pa2'], ['$create', '$join-bob', '$pa2']),
      ev('$no-membership', BOB, 'm.room.member', BOB, { displayname: 'bob' }, 8, ['$pa2'], ['$create', '$join-bob', '$pa2']),
      ev('$topic-alice', ALICE, 'm.room.topic', '', { topic: 'a' }, 9, ['$pa2'], ['$create', '$join-alice', '$pa2']),
    ]);
    // A content that is no object at all (which the PDU parser refuses) makes the rules throw a TypeError.
    const plNull = dag.add(ev('$pl-null', ALICE, 'm.room.power_levels', '', {}, 10, ['$pa2'], ['$create', '$join-alice', '$pa2']));
    dag.events.set(plNull.event_id, { ...plNull, content: null as never });
    const sets = [
      dag.state([...ROOM_IDS, '$pa2', '$topic-zara']),
      dag.state(['$create', '$join-alice', '$jr', '$no-membership', '$pl-bad', '$topic-alice']),
      dag.state([...ROOM_IDS, '$pl-null']),
    ];
    let resolved: StateMap | undefined;
    expect(() => { resolved = resolveStateV2(V11, sets, dag.fetchEvent); }).not.toThrow();
    expect(named(resolved!)).toEqual(named(dag.state([...ROOM_IDS, '$pa2', '$topic-alice'])));
  });

  it('an error of the lookup itself is raised, not taken for a failed authorization', () => {
    const dag = dagOf(V11, [
      ...ROOM,
      ev('$topic-1', ALICE, 'm.room.topic', '', { topic: '1' }, 6, ['$pa2'], ['$create', '$join-alice', '$pa2']),
      ev('$topic-2', ALICE, 'm.room.topic', '', { topic: '2' }, 7, ['$pa2'], ['$create', '$join-alice', '$pa2']),
    ]);
    const sets = [dag.state([...ROOM_IDS, '$pa2', '$topic-1']), dag.state([...ROOM_IDS, '$pa2', '$topic-2'])];
    // The store fails on the last lookup of alice's membership, which the auth checks of the topics make.
    const calls: string[] = [];
    resolveStateV2(V11, sets, (id) => (calls.push(id), dag.fetchEvent(id)));
    const failAt = calls.lastIndexOf('$join-alice');
    let call = 0;
    const failing = (id: string) => {
      if (call++ === failAt) throw new Error('store unavailable');
      return dag.fetchEvent(id);
    };
    expect(() => resolveStateV2(V11, sets, failing)).toThrow('store unavailable');
  });

  it('an event of the state sets that the lookup does not hold is left out of the resolution', () => {
    const dag = dagOf(V11, [
      ...ROOM,
      ev('$topic-1', ALICE, 'm.room.topic', '', { topic: '1' }, 6, ['$pa2'], ['$create', '$join-alice', '$pa2']),
      ev('$topic-2', ALICE, 'm.room.topic', '', { topic: '2' }, 7, ['$pa2'], ['$create', '$join-alice', '$pa2']),
    ]);
    const sets = [dag.state([...ROOM_IDS, '$pa2', '$topic-1']), dag.state([...ROOM_IDS, '$pa2', '$topic-2'])];
    expect(resolveStateV2(V11, sets, dag.fetchEvent).get(stateKey('m.room.topic', ''))).toBe('$topic-2');
    dag.hidden.add('$topic-2');
    expect(named(resolveStateV2(V11, sets, dag.fetchEvent))).toEqual(named(dag.state([...ROOM_IDS, '$pa2', '$topic-1'])));
  });
});

describe('the parts', () => {
  const dag = dagOf(V11, [
    ev('$create', ALICE, 'm.room.create', '', {}, 0),
    ev('$join-alice', ALICE, 'm.room.member', ALICE, JOIN, 1, ['$create'], ['$create']),
    ev('$kick', ALICE, 'm.room.member', BOB, { membership: 'leave' }, 2, [], ['$create', '$join-alice']),
    ev('$leave', BOB, 'm.room.member', BOB, { membership: 'leave' }, 2, [], ['$create']),
    ev('$ban', ALICE, 'm.room.member', BOB, { membership: 'ban' }, 2, [], ['$create', '$join-alice']),
    ev('$invite', ALICE, 'm.room.member', BOB, { membership: 'invite' }, 2, [], ['$create', '$join-alice']),
    ev('$pl', ALICE, 'm.room.power_levels', '', {}, 2, [], ['$create', '$join-alice']),
    ev('$jr', ALICE, 'm.room.join_rules', '', { join_rule: 'public' }, 2, [], ['$create', '$join-alice']),
    ev('$topic', ALICE, 'm.room.topic', '', {}, 2, [], ['$create', '$join-alice']),
  ]);
  const event = (id: string) => dag.events.get(id)!;

  it('power events: power levels, join rules, kicks and bans; not self-leaves, invites, topics or the create event', () => {
    expect(['$pl', '$jr', '$kick', '$ban'].map((id) => isPowerEvent(event(id)))).toEqual([true, true, true, true]);
    expect(['$leave', '$invite', '$topic', '$create', '$join-alice'].map((id) => isPowerEvent(event(id))))
      .toEqual([false, false, false, false, false]);
  });

  it('the conflicted state set holds the events of keys that differ or are missing from a state', () => {
    const key = (type: string, k = '') => stateKey(type, k);
    const { unconflicted, conflicted } = splitConflicted([
      new Map([[key('m.room.create'), '$create'], [key('m.room.topic'), '$t1'], [key('m.room.name'), '$n']]),
      new Map([[key('m.room.create'), '$create'], [key('m.room.topic'), '$t2']]),
      new Map([[key('m.room.create'), '$create'], [key('m.room.topic'), '$t1']]),
    ]);
    expect(unconflicted).toEqual(new Map([[key('m.room.create'), '$create']]));
    expect(conflicted).toEqual(new Set(['$t1', '$t2', '$n']));
  });

  it('the auth chain of an event holds its auth events and theirs, not the event', () => {
    expect(authChain('$kick', dag.fetchEvent)).toEqual(new Set(['$create', '$join-alice']));
    expect(authChain('$create', dag.fetchEvent)).toEqual(new Set());
  });

  it('the reverse topological power ordering follows auth chains through events outside the set', () => {
    // x (alice, the creator: 100, sent first) cites a, which cites y (bob: 0). x comes after y although a is not
    // sorted and x would otherwise win on power level.
    const room = dagOf(V11, [
      ev('$c', ALICE, 'm.room.create', '', {}, 0),
      ev('$y', BOB, 'm.room.member', BOB, JOIN, 5, [], ['$c']),
      ev('$a', BOB, 'm.room.topic', '', {}, 6, [], ['$c', '$y']),
      ev('$x', ALICE, 'm.room.topic', '', {}, 1, [], ['$c', '$a']),
    ]);
    expect(reverseTopologicalPowerOrdering(new Set(['$x', '$y']), V11, room.fetchEvent)).toEqual(['$y', '$x']);
  });

  it('the unconflicted state map wins over an older event of its key replayed from the auth difference', () => {
    // pl-b and pl-c both cite pl-a; the states agree on pl-c, but t-b cites pl-b and t-c cites pl-c, so each is in
    // one full auth chain only (the spec's full auth chain of a state does not hold the state's own events). Both
    // are replayed, pl-b last (the later one), so the mainline is pl-b's and t-b wins the topic; step 5 gives the
    // power levels back to pl-c. (Synapse counts pl-c in both full auth chains and replays pl-b alone: same result
    // here, but not when pl-c is the later one.)
    const room = dagOf(V11, [
      ev('$create', ALICE, 'm.room.create', '', {}, 0),
      ev('$join-alice', ALICE, 'm.room.member', ALICE, JOIN, 1, ['$create'], ['$create']),
      ev('$pl-a', ALICE, 'm.room.power_levels', '', { users: { [ALICE]: 100 } }, 2, [], ['$create', '$join-alice']),
      ev('$pl-c', ALICE, 'm.room.power_levels', '', { users: { [ALICE]: 100 }, kick: 60 }, 3, [], ['$create', '$join-alice', '$pl-a']),
      ev('$pl-b', ALICE, 'm.room.power_levels', '', { users: { [ALICE]: 100 }, kick: 70 }, 4, [], ['$create', '$join-alice', '$pl-a']),
      ev('$t-b', ALICE, 'm.room.topic', '', { topic: 'b' }, 5, [], ['$create', '$join-alice', '$pl-b']),
      ev('$t-c', ALICE, 'm.room.topic', '', { topic: 'c' }, 6, [], ['$create', '$join-alice', '$pl-c']),
    ]);
    const common = ['$create', '$join-alice', '$pl-c'];
    const sets = [room.state([...common, '$t-b']), room.state([...common, '$t-c'])];
    expect(authDifference(sets, room.fetchEvent)).toEqual(new Set(['$pl-b', '$pl-c']));
    expect(named(resolveStateV2(V11, sets, room.fetchEvent))).toEqual(named(room.state([...common, '$t-b'])));
  });

  it('mainline ordering breaks ties of position and origin_server_ts by event ID', () => {
    expect(mainlineOrdering(['$topic', '$pl', '$jr', '$create'], undefined, dag.fetchEvent)).toEqual(['$create', '$jr', '$pl', '$topic']);
  });

  it('states without conflicts resolve to their unconflicted state map', () => {
    const state = dag.state(['$create', '$join-alice', '$pl']);
    expect(named(resolveStateV2(V11, [state, new Map(state)], dag.fetchEvent))).toEqual(named(state));
  });
});
