/**
 * A random but reproducible room: a creator, members from several servers joining over time, power levels, join
 * rules, history visibility, a name now and then, and messages, with forks (events sent from the same forward
 * extremities by different servers) that later events merge. With `conflicts`, the room also has forks whose
 * branches change the same state (conflict-scenarios.ts), one every CONFLICT_INTERVAL events. With `irregular`, it
 * ends with a rejected, a soft-failed and a missing event (irregular-events.ts), as real rooms hold.
 */
import { addIrregularEvents, IRREGULAR_LINES, type IrregularEvents } from './irregular-events';
import { CONFLICT_SCENARIOS, SCENARIO_NAMES, type ConflictOutcome } from './conflict-scenarios';
import { RoomBuilder, type BuiltEvent } from './room-builder';
import { SeededRandom } from './random';

export interface GenerateOptions {
  readonly events: number;
  readonly roomVersion: string;
  readonly seed: string;
  readonly servers?: number;
  readonly historyVisibility?: string;
  /** Weave the conflict scenarios into the room, in turn; needs two servers or more. */
  readonly conflicts?: boolean;
  /**
   * End the room with a rejected, a soft-failed and a missing event (left out: the room has `events` lines all the
   * same); needs 12 events or more, a smaller room is generated without them.
   */
  readonly irregular?: boolean;
}

/** The fewest events a room ends with irregular events in: the five set-up events and IRREGULAR_LINES. */
export const IRREGULAR_MIN_EVENTS = 5 + IRREGULAR_LINES;

/** Random events between two conflict scenarios: often enough that 2,000 events hold every scenario a few times. */
export const CONFLICT_INTERVAL = 100;

export function serverNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `hs${i + 1}.test`);
}

/**
 * Yields the room's events in the order they were created; the builder holds the keys and the room ID.
 * `onConflict` hears of each conflict scenario once all its events are yielded, with the state its merge must have.
 */
export function* generateRoom(
  options: GenerateOptions,
  builder = roomBuilderFor(options),
  onConflict: (outcome: ConflictOutcome) => void = () => {},
  onIrregular: (events: IrregularEvents) => void = () => {},
): Generator<BuiltEvent> {
  const random = new SeededRandom(`${options.seed}/plan`);
  const servers = serverNames(Math.max(1, options.servers ?? 4));
  if (options.conflicts && servers.length < 2) throw new Error('conflicts need at least two servers');
  const creator = `@alice:${servers[0]}`;
  let joined: string[] = [creator];
  // v12 (MSC4289): creators have infinite power and must not be listed in power levels' users.
  const powerUsers: Record<string, number> = builder.version.roomIdIsCreateEventId ? {} : { [creator]: 100 };
  let userCount = 0;
  const irregular = options.irregular === true && options.events >= IRREGULAR_MIN_EVENTS;
  // The regular events stop where the irregular ones begin.
  const end = irregular ? options.events - IRREGULAR_LINES : options.events;

  const setup: Array<() => BuiltEvent> = [
    () => builder.create(creator),
    () => builder.add({ type: 'm.room.member', state_key: creator, sender: creator, content: { membership: 'join', displayname: 'alice' } }),
    () => builder.add({ type: 'm.room.power_levels', state_key: '', sender: creator, content: powerLevels(powerUsers) }),
    () => builder.add({ type: 'm.room.join_rules', state_key: '', sender: creator, content: { join_rule: 'public' } }),
    () =>
      builder.add({
        type: 'm.room.history_visibility',
        state_key: '',
        sender: creator,
        content: { history_visibility: options.historyVisibility ?? 'shared' },
      }),
  ];
  let produced = 0;
  for (const step of setup) {
    if (produced >= end) return;
    yield step();
    produced += 1;
  }

  let nextConflictAt = CONFLICT_INTERVAL;
  let round = 0;
  while (produced < end) {
    if (options.conflicts && produced >= nextConflictAt) {
      // The scenario builds all of its events at once; a room that ends inside it is cut after `events`. Irregular
      // events follow only a whole scenario (they would otherwise build on its events left out): one that does not
      // fit is undone and random events fill the room up to them.
      const first = builder.events.length;
      const undo = builder.checkpoint();
      const scenario = CONFLICT_SCENARIOS[SCENARIO_NAMES[round % SCENARIO_NAMES.length]!];
      const outcome = scenario({ builder, creator, servers, members: joined, round });
      if (irregular && produced + builder.events.length - first > end) {
        undo();
        nextConflictAt = Infinity;
        continue;
      }
      for (const event of builder.events.slice(first)) {
        if (produced >= end) return;
        yield event;
        produced += 1;
      }
      onConflict(outcome);
      // Users the scenario banned, kicked or brought in: who may send from now on is who is joined at the merge.
      joined = [...new Set([...joined, ...outcome.users])].filter((user) => isJoined(builder, user));
      round += 1;
      nextConflictAt = produced + CONFLICT_INTERVAL;
      continue;
    }
    const roll = random.next();
    if (roll < 0.08 && produced + 3 <= end) {
      // A fork: two or three servers send from the same extremities at once; each branch runs on for a while,
      // and the next event after the fork merges the branches' tips (the builder's forward extremities).
      const base = builder.forwardExtremities();
      const branches = random.int(2, 3);
      for (let b = 0; b < branches && produced < end; b++) {
        let prev = base;
        const length = random.int(1, 3);
        for (let i = 0; i < length && produced < end; i++) {
          const event = builder.add({ type: 'm.room.message', sender: random.pick(joined), content: message(random, produced), prev });
          prev = [event];
          produced += 1;
          yield event;
        }
      }
      continue;
    }
    let event: BuiltEvent;
    if (roll < 0.14 || joined.length < servers.length) {
      userCount += 1;
      const user = `@user${userCount}:${servers[userCount % servers.length]}`;
      joined.push(user);
      event = builder.add({ type: 'm.room.member', state_key: user, sender: user, content: { membership: 'join', displayname: `user ${userCount}` } });
    } else if (roll < 0.16) {
      event = builder.add({ type: 'm.room.name', state_key: '', sender: creator, content: { name: `Room ${produced}` } });
    } else {
      event = builder.add({ type: 'm.room.message', sender: random.pick(joined), content: message(random, produced) });
    }
    produced += 1;
    yield event;
  }
  if (irregular) {
    const added = addIrregularEvents(builder, creator, servers);
    yield* added.lines;
    onIrregular(added);
  }
}

export function roomBuilderFor(options: GenerateOptions): RoomBuilder {
  return new RoomBuilder(options.roomVersion, options.seed);
}

function isJoined(builder: RoomBuilder, user: string): boolean {
  const content = builder.currentState('m.room.member', user)?.pdu.content as { membership?: unknown } | undefined;
  return content?.membership === 'join';
}

function powerLevels(users: Record<string, number>): Record<string, unknown> {
  return {
    ban: 50, events: { 'm.room.name': 50, 'm.room.power_levels': 100 }, events_default: 0, invite: 0, kick: 50,
    redact: 50, state_default: 50, users, users_default: 0,
  };
}

function message(random: SeededRandom, n: number): Record<string, unknown> {
  return { msgtype: 'm.text', body: `message ${n} ${random.opaque(8)}` };
}
