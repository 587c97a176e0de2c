/**
 * Rooms with real state conflicts. Each scenario appends a small fork to a room being built: two branches sent from
 * the same forward extremities, each event citing only its own branch's state, then one event (the merge) whose
 * prev_events are the branch tips. It returns the state that the spec's state resolution must give at the merge
 * (server-server API, "Room State Resolution": room version 1's algorithm for v1, v2 for v2-v11, v2.1 (MSC4297)
 * for v12), worked out by hand in the comment of each scenario.
 *
 * The winners never depend on a tie that event IDs break (v1's SHA-1 order at equal depth, v2's event ID order),
 * because a seed picks those at random; they follow from auth rules, power levels, depth (v1) and
 * origin_server_ts (v2, the builder's clock runs forward, so the branch built second is later).
 *
 * No event of any scenario is meant to be rejected: each passes the authorization rules against its own branch's
 * state. The losers lose in the resolution, not on receipt.
 */
import { serverNameOf } from '../core/identifiers';
import { stateKey } from '../core/state-event';
import type { BuiltEvent, EventSpec, RoomBuilder, StateLookup } from './room-builder';

export const SCENARIO_NAMES = [
  'power-levels-race',
  'ban-vs-join',
  'topic-race',
  'membership-two-branches',
  'server-leave-rejoin',
  'power-levels-vs-kick',
] as const;

export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface StateWinner {
  readonly type: string;
  readonly state_key: string;
  readonly event_id: string;
}

export interface ScenarioContext {
  readonly builder: RoomBuilder;
  /** The room's creator: power level 100 (v12: infinite, MSC4289) and joined; sends the merge. */
  readonly creator: string;
  /** The room's servers, the creator's first; a scenario needs at least one other. */
  readonly servers: readonly string[];
  /** The users whose membership is `join` now. */
  readonly members: readonly string[];
  /** How many scenarios the room had before this one: keeps user names unique and rotates the servers used. */
  readonly round: number;
}

export interface ConflictOutcome {
  readonly scenario: ScenarioName;
  /** The scenario's events that its comment names (`ban`, `rejoin`, ...), for tests to say which must win. */
  readonly named: Readonly<Record<string, BuiltEvent>>;
  readonly merge: BuiltEvent;
  /** The state at the merge for every key a branch changed. */
  readonly expected: readonly StateWinner[];
  /** The users the scenario brought into the room (some of them are out again at the merge). */
  readonly users: readonly string[];
}

export type ConflictScenario = (context: ScenarioContext) => ConflictOutcome;

/**
 * Two admins (the creator on hs1 and a new admin on another server, both at 100) change the same power levels
 * entry at once: the new admin gives a target user 25 after a message (depth +2), the creator gives 50 (depth +1),
 * built second so with the later origin_server_ts. Before the fork the new admin sets the topic, so that both
 * branches' states cite the admin's join: else the join, cited by the admin's power levels alone, would be in the
 * auth difference as the spec defines it (not as Synapse computes it, see src/core/auth-chain.ts), and replaying it
 * would order the two power levels events by the auth graph instead of by origin_server_ts.
 *   v1: conflicted power levels are checked from the least deep up, each against the one before; the admin's,
 *       deeper, passes against the creator's (the admin is still at 100 there): the admin's wins.
 *   v2 (rooms 2-11): both power events have senders at 100, so the reverse topological power ordering falls to
 *       origin_server_ts: the admin's is replayed first, the creator's last and it passes: the creator's wins.
 *   v2.1 (room 12): the creator's power is infinite, so the creator's sorts first and the admin's is replayed on top
 *       of it, which it passes: the admin's wins.
 */
export const powerLevelsRace: ConflictScenario = ({ builder, creator, servers, round }) => {
  const admin = userOn(servers, round, 0, `admin-${round}`);
  const target = userOn(servers, round, 1, `target-${round}`);
  builder.add(join(admin));
  builder.add(join(target));
  builder.add(powerLevels(builder.stateSnapshot(), creator, { [admin]: 100 }));
  builder.add({ type: 'm.room.topic', state_key: '', sender: admin, content: { topic: `Run by ${admin}` } });
  const [adminSide, creatorSide] = fork(builder);
  adminSide.add(message(admin, 'power-levels-race: about to change power levels'));
  const adminPowerLevels = adminSide.add(powerLevels(adminSide.state, admin, { [target]: 25 }));
  const creatorPowerLevels = creatorSide.add(powerLevels(creatorSide.state, creator, { [target]: 50 }));
  const winner = builder.version.stateResolution === 'v2' ? creatorPowerLevels : adminPowerLevels;
  return conclude(builder, 'power-levels-race', creator, [adminSide, creatorSide], [winner], {
    named: { adminPowerLevels, creatorPowerLevels },
    users: [admin, target],
  });
};

/**
 * A guest who joined and left is banned by the creator on one branch while rejoining (and talking) on the other.
 *   v1: the two membership events are checked from the least deep up: a ban passes against the rejoin (the guest
 *       is at 0, below the creator), a rejoin fails against the ban ("banned"): whichever comes first, the ban wins.
 *   v2 and v2.1: the ban is a power event (a ban of someone else), replayed before the ordinary events; the rejoin,
 *       replayed after it, fails ("banned"): the ban wins.
 */
export const banVsJoin: ConflictScenario = ({ builder, creator, servers, round }) => {
  const guest = userOn(servers, round, 0, `guest-${round}`);
  builder.add(join(guest));
  builder.add(member(guest, guest, { membership: 'leave' }));
  const [banSide, joinSide] = fork(builder);
  const ban = banSide.add(member(creator, guest, { membership: 'ban', reason: 'ban-vs-join' }));
  const rejoin = joinSide.add(join(guest));
  joinSide.add(message(guest, 'ban-vs-join: back again'));
  return conclude(builder, 'ban-vs-join', creator, [banSide, joinSide], [ban], {
    named: { ban, rejoin },
    users: [guest],
  });
};

/**
 * Two topics at once: an editor (power 50 on another server) sets one after two messages (depth +3), the creator
 * sets the other (depth +1), built second so with the later origin_server_ts.
 *   v1: m.room.topic is no auth event: the deepest candidate that passes the auth rules wins: the editor's.
 *   v2 and v2.1: topics are ordinary events, replayed in mainline order: both cite the same power levels event,
 *       so their mainline positions are equal, origin_server_ts decides and the later one, replayed last, wins:
 *       the creator's.
 */
export const topicRace: ConflictScenario = ({ builder, creator, servers, round }) => {
  const editor = userOn(servers, round, 0, `editor-${round}`);
  builder.add(join(editor));
  builder.add(powerLevels(builder.stateSnapshot(), creator, { [editor]: 50 }));
  const [editorSide, creatorSide] = fork(builder);
  editorSide.add(message(editor, 'topic-race: thinking of a topic'));
  editorSide.add(message(editor, 'topic-race: got one'));
  const editorTopic = editorSide.add(topic(editor));
  const creatorTopic = creatorSide.add(topic(creator));
  const winner = builder.version.stateResolution === 'v1' ? editorTopic : creatorTopic;
  return conclude(builder, 'topic-race', creator, [editorSide, creatorSide], [winner], {
    named: { editorTopic, creatorTopic },
    users: [editor],
  });
};

/**
 * A wanderer leaves on one branch; on the other the wanderer changes displayname and the creator then kicks them.
 *   v1: the leave (depth +1) and the kick (depth +2) are checked from the least deep up: the kick passes against
 *       the leave (a kick needs no joined target), so the kick wins.
 *   v2 and v2.1: the kick is a power event and the displayname change, in its auth chain and in the auth
 *       difference, is replayed with it, before it; the leave, an ordinary event replayed afterwards, fails (the
 *       wanderer has already left): the kick wins.
 */
export const membershipTwoBranches: ConflictScenario = ({ builder, creator, servers, round }) => {
  const wanderer = userOn(servers, round, 0, `wanderer-${round}`);
  builder.add(join(wanderer));
  const [leaveSide, kickSide] = fork(builder);
  const leave = leaveSide.add(member(wanderer, wanderer, { membership: 'leave' }));
  const rename = kickSide.add(join(wanderer, `wanderer ${round} (renamed)`));
  const kick = kickSide.add(member(creator, wanderer, { membership: 'leave', reason: 'membership-two-branches' }));
  return conclude(builder, 'membership-two-branches', creator, [leaveSide, kickSide], [kick], {
    named: { leave, rename, kick },
    users: [wanderer],
  });
};

/**
 * Every member of one server (a traveller joins first, so there is one) leaves, the creator talks in their absence,
 * and they all rejoin; on a concurrent branch the creator talks and renames the room.
 *   v1: each member's key has their old join and their rejoin, deeper, which passes against the old join: the
 *       rejoins win; the new name is the deepest name: it wins.
 *   v2 and v2.1: no power events; in mainline order, then origin_server_ts, each member's old join (which cites
 *       the same or an older power levels event), leave (from the auth difference) and rejoin are replayed in that
 *       order and all pass: the rejoins win; the old name, if any, comes before the new one: the new name wins.
 */
export const serverLeaveRejoin: ConflictScenario = ({ builder, creator, servers, members, round }) => {
  const server = otherServers(servers)[round % otherServers(servers).length]!;
  const traveller = `@traveller-${round}:${server}`;
  builder.add(join(traveller));
  const leavers = [...new Set([...members.filter((user) => serverNameOf(user) === server), traveller])];
  const displaynames = leavers.map((user) => {
    const content = builder.currentState('m.room.member', user)?.pdu.content as { displayname?: unknown } | undefined;
    return content?.displayname;
  });
  const [awaySide, concurrentSide] = fork(builder);
  for (const user of leavers) awaySide.add(member(user, user, { membership: 'leave' }));
  awaySide.add(message(creator, `server-leave-rejoin: ${server} has left`));
  const rejoins = leavers.map((user, i) => {
    const displayname = displaynames[i];
    return awaySide.add(join(user, typeof displayname === 'string' ? displayname : undefined));
  });
  concurrentSide.add(message(creator, `server-leave-rejoin: meanwhile, away from ${server}`));
  const rename = concurrentSide.add({
    type: 'm.room.name', state_key: '', sender: creator, content: { name: `Meanwhile ${round}` },
  });
  return conclude(builder, 'server-leave-rejoin', creator, [awaySide, concurrentSide], [...rejoins, rename], {
    named: { rename, ...Object.fromEntries(rejoins.map((event, i) => [`rejoin ${leavers[i]!}`, event])) },
    users: [traveller],
  });
};

/**
 * The creator demotes a moderator (50 -> default 0) on one branch while that moderator kicks a victim on the other.
 *   v1: power levels are resolved first: the demotion passes against the promotion before it and wins; then the
 *       victim's key: the kick fails against the demotion (the moderator is below the kick level): the victim's
 *       join wins.
 *   v2 and v2.1: the promotion, the demotion and the kick are power events, replayed with the events of their auth
 *       chains that are in the full conflicted set (the victim's join); the creator's sort first (more power), so
 *       the kick is replayed after the demotion and fails: the demotion and the victim's join win.
 */
export const powerLevelsVsKick: ConflictScenario = ({ builder, creator, servers, round }) => {
  const moderator = userOn(servers, round, 0, `moderator-${round}`);
  const victim = userOn(servers, round, 1, `victim-${round}`);
  builder.add(join(moderator));
  const victimJoin = builder.add(join(victim));
  builder.add(powerLevels(builder.stateSnapshot(), creator, { [moderator]: 50 }));
  const [demoteSide, kickSide] = fork(builder);
  const demotion = demoteSide.add(powerLevels(demoteSide.state, creator, { [moderator]: undefined }));
  const kick = kickSide.add(member(moderator, victim, { membership: 'leave', reason: 'power-levels-vs-kick' }));
  return conclude(builder, 'power-levels-vs-kick', creator, [demoteSide, kickSide], [demotion, victimJoin], {
    named: { demotion, kick, victimJoin },
    users: [moderator, victim],
  });
};

export const CONFLICT_SCENARIOS: Readonly<Record<ScenarioName, ConflictScenario>> = {
  'power-levels-race': powerLevelsRace,
  'ban-vs-join': banVsJoin,
  'topic-race': topicRace,
  'membership-two-branches': membershipTwoBranches,
  'server-leave-rejoin': serverLeaveRejoin,
  'power-levels-vs-kick': powerLevelsVsKick,
};

/** One branch of a fork: its events follow each other from the fork's base and cite the branch's own state. */
export class Branch {
  private readonly changes = new Map<string, BuiltEvent>();
  private tips: readonly BuiltEvent[];

  constructor(
    private readonly builder: RoomBuilder,
    private readonly base: StateLookup,
    from: readonly BuiltEvent[],
  ) {
    this.tips = from;
  }

  readonly state: StateLookup = (type, key) => this.changes.get(stateKey(type, key)) ?? this.base(type, key);

  add(spec: Omit<EventSpec, 'prev' | 'authState'>): BuiltEvent {
    const event = this.builder.add({ ...spec, prev: this.tips, authState: this.state });
    if (spec.state_key !== undefined) this.changes.set(stateKey(spec.type, spec.state_key), event);
    this.tips = [event];
    return event;
  }

  tip(): BuiltEvent {
    if (this.tips.length !== 1) throw new Error('a branch needs an event of its own before it can be merged');
    return this.tips[0]!;
  }
}

/** Two branches that both start from the room's forward extremities and its current state. */
export function fork(builder: RoomBuilder): [Branch, Branch] {
  const base = builder.stateSnapshot();
  const from = [...builder.forwardExtremities()];
  return [new Branch(builder, base, from), new Branch(builder, base, from)];
}

/**
 * The merge: the creator's message after every branch tip. The builder is told the resolved state first, so the
 * merge, and every event after it, cites the winners.
 */
function conclude(
  builder: RoomBuilder,
  scenario: ScenarioName,
  creator: string,
  branches: readonly Branch[],
  winners: readonly BuiltEvent[],
  { named, users }: Pick<ConflictOutcome, 'named' | 'users'>,
): ConflictOutcome {
  builder.adoptState(winners);
  const prev = branches.map((branch) => branch.tip());
  const merge = builder.add({ ...message(creator, `${scenario}: the branches merge here`), prev });
  const expected = winners.map(({ type, state_key, event_id }) => ({ type, state_key: state_key!, event_id }));
  return { scenario, named, merge, expected, users };
}

/** The power levels in `state` with some users' levels set (undefined: back to users_default). */
function powerLevels(state: StateLookup, sender: string, levels: Record<string, number | undefined>): EventSpec {
  const content = (state('m.room.power_levels', '')?.pdu.content ?? {}) as Record<string, unknown>;
  const users: Record<string, unknown> = { ...(content.users as Record<string, unknown> | undefined) };
  for (const [user, level] of Object.entries(levels)) {
    if (level === undefined) delete users[user];
    else users[user] = level;
  }
  return { type: 'm.room.power_levels', state_key: '', sender, content: { ...content, users } };
}

function member(sender: string, target: string, content: Record<string, unknown>): EventSpec {
  return { type: 'm.room.member', state_key: target, sender, content };
}

function join(user: string, displayname = user.slice(1, user.indexOf(':'))): EventSpec {
  return member(user, user, { membership: 'join', displayname });
}

function topic(sender: string): EventSpec {
  return { type: 'm.room.topic', state_key: '', sender, content: { topic: `Topic by ${sender}` } };
}

function message(sender: string, body: string): EventSpec {
  return { type: 'm.room.message', sender, content: { msgtype: 'm.text', body } };
}

/** A new user on one of the servers other than the creator's, rotating with the round. */
function userOn(servers: readonly string[], round: number, offset: number, localpart: string): string {
  const others = otherServers(servers);
  return `@${localpart}:${others[(round + offset) % others.length]!}`;
}

function otherServers(servers: readonly string[]): readonly string[] {
  if (servers.length < 2) throw new Error('conflict scenarios need at least two servers');
  return servers.slice(1);
}
