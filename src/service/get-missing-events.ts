/**
 * POST /_matrix/federation/v1/get_missing_events/{roomId} (spec: server-server API, "Retrieving missing events").
 * In the order Conduit's route reads: the request, the room, the origin's right to read it (server ACL, federate,
 * membership or world_readable), then the breadth-first walk back from latest_events.
 */
import { parseMissingEventsRequest, type MissingEventsLimits } from '../core/missing-events-request';
import { assertOriginMayRead } from '../core/room-access';
import { MatrixError } from '../errors';
import type { EventStore } from '../store/event-store';
import type { RoomStore } from '../store/room-store';

export interface MissingEventsDeps {
  readonly events: Pick<EventStore, 'walk'>;
  readonly rooms: Pick<RoomStore, 'access'>;
  readonly limits: MissingEventsLimits;
}

/** Returns the PDUs to send, oldest first, each the JSON string it was imported as. */
export async function getMissingEvents(deps: MissingEventsDeps, origin: string, roomId: string, body: unknown): Promise<string[]> {
  const request = parseMissingEventsRequest(roomId, body, deps.limits);
  const room = await deps.rooms.access(request.room_id, origin);
  if (room === undefined) throw new MatrixError('M_NOT_FOUND', `Unknown room ${request.room_id}`);
  assertOriginMayRead(room, origin);
  return deps.events.walk(request);
}
