/**
 * Whether a server may read a room's events (spec: server-server API, "Server Access Control Lists" and the
 * get_missing_events requirement that the origin be in the room, as Synapse's assert_host_in_room enforces).
 * Pure: the facts come from the summary of the room's current state (the resolution of its forward extremities'
 * states), read by the store.
 */
import { MatrixError } from '../errors';
import { serverNameOf } from './identifiers';
import { isObject } from './json';
import { serverAclAllows } from './server-acl';

export interface RoomAccessFacts {
  readonly room_id: string;
  readonly room_version: string;
  readonly create_sender: string | null;
  /** Current-state contents (parsed JSON), null when the room has no such state. */
  readonly create_content: unknown;
  readonly acl_content: unknown;
  /** The current m.room.history_visibility's `history_visibility`, null when absent or not a string. */
  readonly history_visibility: string | null;
  readonly origin_joined: boolean;
}

/** Throws M_FORBIDDEN unless `origin` may read the room. */
export function assertOriginMayRead(room: RoomAccessFacts, origin: string): void {
  const acl = room.acl_content;
  if (acl !== null && acl !== undefined && !serverAclAllows(acl, origin)) {
    throw new MatrixError('M_FORBIDDEN', `${origin} is denied by the server ACL of ${room.room_id}`);
  }
  const create = room.create_content;
  const creatorServer = serverNameOf(room.create_sender);
  // As Synapse's _can_federate: the room federates only when `m.federate` is absent or exactly true, so "false", 0 or
  // null keep it on the creator's server too.
  if (isObject(create) && Object.hasOwn(create, 'm.federate') && create['m.federate'] !== true && origin !== creatorServer) {
    throw new MatrixError('M_FORBIDDEN', `${room.room_id} does not federate (m.federate is ${JSON.stringify(create['m.federate'])})`);
  }
  if (room.origin_joined) return;
  if (room.history_visibility === 'world_readable') return;
  throw notInRoom(origin, room.room_id);
}

/** The refusal for an origin with no joined member, and for an unknown room alike. */
export function notInRoom(origin: string, roomId: string): MatrixError {
  return new MatrixError('M_FORBIDDEN', `${origin} has no joined member in ${roomId}`);
}

