/**
 * POST /_matrix/federation/v1/get_missing_events/{roomId} (spec: server-server API, "Retrieving missing events").
 * In the order Conduit's route reads: the request, the room, the origin's right to read it (server ACL, federate,
 * membership or world_readable), the breadth-first walk back from latest_events, then history visibility: each
 * event the origin may not see goes out redacted (Synapse's filter_events_for_server with redact=True).
 *
 * When the caller can pass a request on to the homeserver (`passOnWhenBehind`), a request naming a latest event we
 * do not hold as an event of the room (we are behind the homeserver, or hold it only as a placeholder) is not
 * answered from here at all, whatever our copy of the room says: our room state may be as far behind as the events,
 * and the homeserver decides room access with its own. Likewise a request that our copy of the room would refuse
 * while a follower has stored events of the room that its current state does not reflect yet (a server that has
 * just joined): the homeserver decides, rather than a current state a second behind.
 */
import { parseMissingEventsRequest, type MissingEventsLimits } from '../core/missing-events-request';
import { redactEvent } from '../core/redaction';
import { assertOriginMayRead, notInRoom } from '../core/room-access';
import { getRoomVersion } from '../core/room-versions';
import { isVisibleToServer } from '../core/visibility';
import type { EventStore } from '../store/event-store';

export interface MissingEventsDeps {
  readonly events: Pick<EventStore, 'missingEvents'>;
  readonly limits: MissingEventsLimits;
}

/** The PDUs to send, oldest first, and how many of them are redactions. */
export interface MissingEventsAnswer {
  readonly pdus: readonly string[];
  readonly redacted: number;
}

/** A request this graph cannot answer in full: the latest events it does not hold, or room access still settling. */
export interface MissingEventsBehind {
  readonly latestNotHeld: readonly string[];
  /** Refused by a current state that lags the stored events (see room_settling in cypher/walk.cypher). */
  readonly refusedWhileSettling?: boolean;
}

export interface MissingEventsOptions {
  /** Return MissingEventsBehind instead of answering when a latest event is not held (an upstream is configured). */
  readonly passOnWhenBehind?: boolean;
}

/**
 * Returns the PDUs to send, oldest first: each the JSON string it was imported as when the origin may see it, its
 * redaction otherwise; or, with `passOnWhenBehind`, the latest events not held when there are any.
 */
export async function getMissingEvents(
  deps: MissingEventsDeps,
  origin: string,
  roomId: string,
  body: unknown,
  options: MissingEventsOptions = {},
): Promise<MissingEventsAnswer | MissingEventsBehind> {
  const request = parseMissingEventsRequest(roomId, body, deps.limits);
  // One round trip reads the room-access facts, walks, and says which latest events are not held; the walk's events
  // are sent only once room access allows it.
  const { room, events, latestNotHeld, roomSettling } = await deps.events.missingEvents(request, origin);
  if (options.passOnWhenBehind === true && latestNotHeld.length > 0) return { latestNotHeld };
  // An unknown room answers exactly as a room the origin is not in, as Synapse does: no probing for room IDs.
  if (room === undefined) throw notInRoom(origin, request.room_id);
  try {
    assertOriginMayRead(room, origin);
  } catch (refusal) {
    if (options.passOnWhenBehind === true && roomSettling) return { latestNotHeld, refusedWhileSettling: true };
    throw refusal;
  }
  const version = getRoomVersion(room.room_version)!;
  let redacted = 0;
  const pdus = events.map((event) => {
    if (isVisibleToServer(event)) return event.pdu;
    redacted += 1;
    return JSON.stringify(redactEvent(JSON.parse(event.pdu), version));
  });
  return { pdus, redacted };
}
