/**
 * The generator's conflict scenarios against our state resolution: for every room version and every scenario, the
 * state at the merge holds exactly the winners worked out by hand in conflict-scenarios.ts, the branches really
 * disagree at each of those keys, and no event is rejected (no scenario means one to be). Then whole generated rooms
 * with `conflicts`: every scenario is in them, with the same winners, and nothing is rejected.
 *
 * The states are computed in memory, event by event in generation order (a topological order), with the same
 * computeEventState the importer uses.
 */
import { computeEventState } from '../../src/core/event-state';
import { serverNameOf } from '../../src/core/identifiers';
import { readPdu, stateEventOf } from '../../src/core/pdu';
import { stateGet, type RoomState } from '../../src/core/room-state';
import { getRoomVersion, SUPPORTED_ROOM_VERSIONS, type RoomVersion } from '../../src/core/room-versions';
import { stateKey, type StateEvent } from '../../src/core/state-event';
import {
  CONFLICT_SCENARIOS,
  SCENARIO_NAMES,
  type ConflictOutcome,
  type ScenarioName,
} from '../../src/generator/conflict-scenarios';
import { generateRoom, roomBuilderFor, serverNames, type GenerateOptions } from '../../src/generator/generate-room';
import type { BuiltEvent, RoomBuilder } from '../../src/generator/room-builder';

type Resolution = RoomVersion['stateResolution'];

/**
 * Which named events of each scenario hold the state at the merge, by resolution algorithm (v1: room 1, v2: rooms
 * 2-11, v2.1: room 12), as the scenarios' comments reason it out. `rejoin *` is every member's rejoin.
 */
const WINNERS: Record<ScenarioName, Record<Resolution, readonly string[]>> = {
  'power-levels-race': { v1: ['adminPowerLevels'], v2: ['creatorPowerLevels'], 'v2.1': ['adminPowerLevels'] },
  'ban-vs-join': { v1: ['ban'], v2: ['ban'], 'v2.1': ['ban'] },
  'topic-race': { v1: ['editorTopic'], v2: ['creatorTopic'], 'v2.1': ['creatorTopic'] },
  'membership-two-branches': { v1: ['kick'], v2: ['kick'], 'v2.1': ['kick'] },
  'server-leave-rejoin': { v1: ['rejoin *', 'rename'], v2: ['rejoin *', 'rename'], 'v2.1': ['rejoin *', 'rename'] },
  'power-levels-vs-kick': {
    v1: ['demotion', 'victimJoin'],
    v2: ['demotion', 'victimJoin'],
    'v2.1': ['demotion', 'victimJoin'],
  },
};

interface ComputedRoom {
  readonly after: ReadonlyMap<string, RoomState>;
  readonly before: ReadonlyMap<string, RoomState>;
  /** Event ID -> why it was rejected. */
  readonly rejected: ReadonlyMap<string, string>;
}

/** The state before and after every event, computed in the order the events were generated. */
function computeRoom(events: readonly BuiltEvent[], version: RoomVersion): ComputedRoom {
  const byId = new Map<string, StateEvent>();
  const after = new Map<string, RoomState>();
  const before = new Map<string, RoomState>();
  const rejected = new Map<string, string>();
  for (const built of events) {
    const read = readPdu(JSON.stringify(built.pdu), built.pdu, version);
    if (!read.ok) throw new Error(`${built.event_id}: ${read.reason}`);
    const event = stateEventOf(read.event, built.pdu);
    byId.set(event.event_id, event);
    const state = computeEventState({
      event,
      version,
      prevStates: event.prev_events.map((id) => after.get(id)!),
      lookup: (id) => byId.get(id),
      isRejected: (id) => rejected.has(id),
    });
    if (state.verdict.kind === 'rejected') rejected.set(event.event_id, state.verdict.reason);
    before.set(event.event_id, state.before);
    after.set(event.event_id, state.after);
  }
  return { after, before, rejected };
}

/** The events the table names for this scenario and algorithm. */
function tableWinners(outcome: ConflictOutcome, resolution: Resolution): BuiltEvent[] {
  return WINNERS[outcome.scenario][resolution].flatMap((name) =>
    name.endsWith(' *')
      ? Object.entries(outcome.named).filter(([key]) => key.startsWith(name.slice(0, -1))).map(([, event]) => event)
      : [outcome.named[name]!],
  );
}

function prevIds(event: BuiltEvent, version: RoomVersion): string[] {
  return (event.pdu.prev_events as unknown[]).map((entry) => (version.referencesAreHashPairs ? (entry as [string])[0] : (entry as string)));
}

/** The checks every scenario's merge must pass, in a room built any way. */
function expectResolved(outcome: ConflictOutcome, room: ComputedRoom, version: RoomVersion): void {
  const winners = tableWinners(outcome, version.stateResolution);
  expect(winners.length).toBeGreaterThan(0);
  // The scenario's own answer, which the builder adopted, is the table's.
  expect(outcome.expected).toEqual(winners.map(({ type, state_key, event_id }) => ({ type, state_key, event_id })));

  const atMerge = room.after.get(outcome.merge.event_id)!;
  const got = outcome.expected.map(({ type, state_key }) => ({
    type,
    state_key,
    event_id: stateGet(atMerge, stateKey(type, state_key)),
  }));
  expect(got).toEqual(outcome.expected);

  // A real conflict: the branch tips' states disagree at every winner's key.
  const tips = prevIds(outcome.merge, version);
  expect(tips).toHaveLength(2);
  const [left, right] = tips.map((id) => room.after.get(id)!);
  const agreeing = outcome.expected.filter(({ type, state_key }) => {
    const key = stateKey(type, state_key);
    return stateGet(left!, key) === stateGet(right!, key);
  });
  expect(agreeing).toEqual([]);
}

/** The users the builder's current state has joined, out of those the events name. */
function joinedUsers(builder: RoomBuilder, events: readonly BuiltEvent[]): string[] {
  const users = new Set(events.filter((event) => event.type === 'm.room.member').map((event) => event.state_key!));
  const membership = (user: string) => (builder.currentState('m.room.member', user)?.pdu.content as { membership?: unknown }).membership;
  return [...users].filter((user) => membership(user) === 'join');
}

describe.each(SUPPORTED_ROOM_VERSIONS)('conflict scenarios in room version %s', (roomVersion) => {
  const version = getRoomVersion(roomVersion)!;

  describe.each(SCENARIO_NAMES)('%s', (name) => {
    // A random room of four servers first (with forks of its own), then the scenario on top of it.
    const options: GenerateOptions = { events: 40, roomVersion, seed: `conflicts/${roomVersion}/${name}`, servers: 4 };
    const builder = roomBuilderFor(options);
    const base = [...generateRoom(options, builder)];
    const outcome = CONFLICT_SCENARIOS[name]({
      builder,
      creator: '@alice:hs1.test',
      servers: serverNames(4),
      members: joinedUsers(builder, base),
      round: 0,
    });
    const scenarioEvents = builder.events.slice(base.length);
    const room = computeRoom(builder.events, version);

    it('rejects no event, of the room or of the scenario', () => {
      expect([...room.rejected]).toEqual([]);
    });

    it('ends with the merge, whose prev_events are the two branch tips', () => {
      expect(scenarioEvents[scenarioEvents.length - 1]).toBe(outcome.merge);
      expect(outcome.merge.pdu.sender).toBe('@alice:hs1.test');
      expect((outcome.merge.pdu.content as { body: string }).body).toBe(`${name}: the branches merge here`);
    });

    it(`gives the hand-worked winners at the merge (${version.stateResolution})`, () => {
      expectResolved(outcome, room, version);
    });

    if (name === 'server-leave-rejoin') {
      it('has every member of the server out of the room between the leaves and the rejoins, and back at the merge', () => {
        const gap = scenarioEvents.find((event) => (event.pdu.content as { body?: string }).body?.endsWith('has left'))!;
        const server = (gap.pdu.content as { body: string }).body.split(' ')[1]!;
        const rejoins = Object.keys(outcome.named).filter((key) => key.startsWith('rejoin '));
        expect(rejoins.length).toBeGreaterThanOrEqual(2); // the traveller, and the base room's members of that server
        expect(rejoins.every((key) => serverNameOf(key.slice('rejoin '.length)) === server)).toBe(true);
        expect(room.before.get(gap.event_id)!.summary.joined.has(server)).toBe(false);
        expect(room.after.get(outcome.merge.event_id)!.summary.joined.get(server)).toBe(rejoins.length);
      });
    }
  });
});

describe.each(['1', '10', '11', '12'])('a generated room of 2,000 events with conflicts, version %s', (roomVersion) => {
  const version = getRoomVersion(roomVersion)!;
  const options: GenerateOptions = { events: 2000, roomVersion, seed: `conflicts-room/${roomVersion}`, servers: 4, conflicts: true };
  const outcomes: ConflictOutcome[] = [];
  const events = [...generateRoom(options, roomBuilderFor(options), (outcome) => outcomes.push(outcome))];
  const room = computeRoom(events, version);

  it('has the events asked for and rejects none of them', () => {
    expect(events).toHaveLength(2000);
    expect([...room.rejected]).toEqual([]);
  });

  it('holds every scenario, in turn', () => {
    expect(outcomes.length).toBeGreaterThanOrEqual(2 * SCENARIO_NAMES.length);
    expect(outcomes.map((outcome) => outcome.scenario)).toEqual(outcomes.map((_, i) => SCENARIO_NAMES[i % SCENARIO_NAMES.length]));
    const ids = new Set(events.map((event) => event.event_id));
    expect(outcomes.filter((outcome) => !ids.has(outcome.merge.event_id))).toEqual([]);
  });

  it('gives the hand-worked winners at every merge', () => {
    for (const outcome of outcomes) expectResolved(outcome, room, version);
  });
});

describe('generateRoom with conflicts', () => {
  it('gives the same events with conflicts off as without the option', () => {
    const options: GenerateOptions = { events: 300, roomVersion: '10', seed: 'conflicts-off', servers: 4 };
    const lines = (o: GenerateOptions) => [...generateRoom(o, roomBuilderFor(o))].map((event) => JSON.stringify(event.pdu));
    expect(lines({ ...options, conflicts: false })).toEqual(lines(options));
  });

  it('stops at exactly the number of events asked for, even inside a scenario', () => {
    const options: GenerateOptions = { events: 103, roomVersion: '10', seed: 'conflicts-cut', servers: 4, conflicts: true };
    const outcomes: ConflictOutcome[] = [];
    const events = [...generateRoom(options, roomBuilderFor(options), (outcome) => outcomes.push(outcome))];
    expect(events).toHaveLength(103);
    expect(outcomes).toEqual([]);
    expect(events.some((event) => event.state_key === '@admin-0:hs2.test')).toBe(true);
  });

  it('needs two servers', () => {
    const options: GenerateOptions = { events: 10, roomVersion: '10', seed: 'conflicts-one-server', servers: 1, conflicts: true };
    expect(() => [...generateRoom(options, roomBuilderFor(options))]).toThrow('conflicts need at least two servers');
  });
});
