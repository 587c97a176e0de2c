/**
 * Redactions of imported events, as Synapse's event store applies them, whichever of the redaction and the event
 * it names arrives first (in one import or across imports, from a file or a follower):
 *
 * 1. Each m.room.redaction is recorded with the batch that stores it (the event it names, and "open"), in the
 *    same transaction, so a crash never leaves a stored redaction unrecorded.
 * 2. When a room is settled (after its pending states are computed), each open redaction whose verdict is known
 *    and whose target is stored is decided with the room version's rules (src/core/redaction-rules.ts) and closed:
 *    the target of one that applies gets the label Redacted, which the walk serves pruned.
 *
 * A redaction whose target or state is missing stays open; the settle step of the import that brings it decides it.
 * Deciding at write time what Synapse decides at read time gives the same answer: both events are immutable, and
 * the verdict, the one input that changes (pending, then known), is waited for.
 */
import type { ManagedTransaction } from 'neo4j-driver';
import { hasRedactLevel, redactedEventIdOf, redactionOutcome } from '../core/redaction-rules';
import { serverNameOf } from '../core/identifiers';
import type { RoomVersion } from '../core/room-versions';
import { stateKey, type StateEvent, type StateKey } from '../core/state-event';
import type { StoredEvent } from '../core/pdu';
import { recordRedactions, type OpenRedaction, type RedactionDecision, type RedactionRecord, type RedactionStore } from '../store/redaction-store';
import type { LoadedState } from '../store/state-store';
import type { StateLoader } from './room-states';

/** More to write in a batch's transaction (the importer's `alsoWrite`). */
type TransactionWork = (tx: ManagedTransaction) => Promise<void>;

/** The redactions among a batch's events, to record with it. */
export function redactionRecords(
  entries: Iterable<{ readonly event: StoredEvent; readonly state: StateEvent }>,
  versionOf: (roomId: string) => RoomVersion,
): RedactionRecord[] {
  const records: RedactionRecord[] = [];
  for (const { event, state } of entries) {
    const redacts = redactedEventIdOf(state, versionOf(event.room_id));
    if (redacts !== undefined) records.push({ event_id: event.event_id, pdu: event.pdu, redacts });
  }
  return records;
}

/** `alsoWrite` with the batch's redactions recorded first; undefined when there is nothing to write. */
export function withRedactionRecords(records: readonly RedactionRecord[], alsoWrite?: TransactionWork): TransactionWork | undefined {
  if (records.length === 0) return alsoWrite;
  return async (tx) => {
    await recordRedactions(tx, records);
    await alsoWrite?.(tx);
  };
}

/** What deciding a room's redactions reads: its stored state events (by ID) and, from the graph, states. */
export interface RedactionRoom {
  readonly roomId: string;
  readonly version: RoomVersion;
  readonly lookup: (eventId: string) => StateEvent | undefined;
}

/** Decides the room's open redactions that can be decided now; returns how many were applied. */
export async function settleRedactions(store: RedactionStore, loader: StateLoader, room: RedactionRoom): Promise<number> {
  const open = await store.open(room.roomId);
  if (open.length === 0) return 0;
  const needPower = open.filter((row) => needsPowerCheck(row, room));
  const states = await loadedStates(loader, needPower.map((row) => row.state_before));
  const decisions: RedactionDecision[] = open.map((row) => ({
    redaction_id: row.redaction_id,
    target_id: row.target_id,
    outcome: redactionOutcome(
      {
        room_id: room.roomId,
        sender: row.sender,
        rejected: row.rejected,
        may_redact_any: needPower.includes(row) && mayRedactAny(row, room, states),
      },
      { room_id: row.target_room_id, sender: row.target_sender, type: row.target_type },
      room.version,
    ),
  }));
  await store.close(decisions);
  return decisions.filter((decision) => decision.outcome === 'applied').length;
}

/** Only a v3+ redaction that could apply, of an event from another server, depends on its sender's power. */
function needsPowerCheck(row: OpenRedaction, room: RedactionRoom): boolean {
  return !room.version.auth.redactionDomainRule && !row.rejected && row.target_room_id === room.roomId &&
    serverNameOf(row.sender) !== serverNameOf(row.target_sender);
}

/**
 * Whether the sender had the redact level in both states the authorization rules checked the redaction against,
 * its auth events and the state before it, as Synapse's `check_redaction` runs on each (lacking it in either
 * marks the redaction for the same-server check).
 */
function mayRedactAny(row: OpenRedaction, room: RedactionRoom, states: Map<string, LoadedState>): boolean {
  const atKey = (type: string) => {
    const id = stateEntry(states, row.state_before, stateKey(type, ''));
    return id === undefined ? undefined : room.lookup(id);
  };
  // The create event never changes; in v12 it is not among the auth events (the room ID names it).
  const create = atKey('m.room.create');
  const authEvents = row.auth_events.map(room.lookup).filter((event): event is StateEvent => event !== undefined);
  const authPowerLevels = authEvents.find((event) => event.type === 'm.room.power_levels' && event.state_key === '');
  return hasRedactLevel(row.sender, authPowerLevels, create, room.version) &&
    hasRedactLevel(row.sender, atKey('m.room.power_levels'), create, room.version);
}

async function loadedStates(loader: StateLoader, stateIds: readonly string[]): Promise<Map<string, LoadedState>> {
  if (stateIds.length === 0) return new Map();
  return new Map((await loader.states([...new Set(stateIds)])).map((state) => [state.state_id, state]));
}

/** The event ID at `key` in a loaded state: its own entries, then the states it is a delta on. */
function stateEntry(states: Map<string, LoadedState>, stateId: string, key: StateKey): string | undefined {
  for (let at = states.get(stateId); at !== undefined; at = at.parent_id === null ? undefined : states.get(at.parent_id)) {
    if (at.entries.has(key)) return at.entries.get(key) ?? undefined;
  }
  return undefined;
}
