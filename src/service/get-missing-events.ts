/**
 * POST /_matrix/federation/v1/get_missing_events/{roomId} (spec: server-server API, "Retrieving missing events").
 * In the order Conduit's route reads: the request, the room, the origin's right to read it (server ACL, federate,
 * membership or world_readable), the breadth-first walk back from latest_events, then history visibility: each
 * event the origin may not see goes out redacted (Synapse's filter_events_for_server with redact=True).
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

/**
 * Returns the PDUs to send, oldest first: each the JSON string it was imported as when the origin may see it, its
 * redaction otherwise.
 */
export async function getMissingEvents(deps: MissingEventsDeps, origin: string, roomId: string, body: unknown): Promise<MissingEventsAnswer> {
  const request = parseMissingEventsRequest(roomId, body, deps.limits);
  // One round trip reads the room-access facts and walks; the walk's events are sent only once they allow it.
  const answer = await deps.events.missingEvents(request, origin);
  // An unknown room answers exactly as a room the origin is not in, as Synapse does: no probing for room IDs.
  if (answer === undefined) throw notInRoom(origin, request.room_id);
  const { room, events } = answer;
  assertOriginMayRead(room, origin);
  const version = getRoomVersion(room.room_version)!;
  let redacted = 0;
  const pdus = events.map((event) => {
    if (isVisibleToServer(event)) return event.pdu;
    redacted += 1;
    return JSON.stringify(redactEvent(JSON.parse(event.pdu), version));
  });
  return { pdus, redacted };
}
