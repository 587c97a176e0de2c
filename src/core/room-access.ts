/**
 * Whether a server may read a room's events (spec: server-server API, "Server Access Control Lists" and the
 * get_missing_events requirement that the origin be in the room, as Synapse's assert_host_in_room enforces).
 * Pure: the facts come from the room's current state, read by the store.
 */
import { MatrixError } from '../errors';
import { serverNameOf } from './identifiers';
import { isObject } from './json';
import { serverAclAllows } from './server-acl';

export interface RoomAccessFacts {
  readonly room_id: string;
  readonly room_version: string;
  readonly create_sender: string | null;
  /** Current-state contents as JSON strings, null when the room has no such state. */
  readonly create_content: string | null;
  readonly acl_content: string | null;
  readonly history_visibility_content: string | null;
  readonly origin_joined: boolean;
}

/** Throws M_FORBIDDEN unless `origin` may read the room. */
export function assertOriginMayRead(room: RoomAccessFacts, origin: string): void {
  const acl = parse(room.acl_content);
  if (acl !== undefined && !serverAclAllows(acl, origin)) {
    throw new MatrixError('M_FORBIDDEN', `${origin} is denied by the server ACL of ${room.room_id}`);
  }
  const create = parse(room.create_content);
  const creatorServer = serverNameOf(room.create_sender);
  if (isObject(create) && create['m.federate'] === false && origin !== creatorServer) {
    throw new MatrixError('M_FORBIDDEN', `${room.room_id} does not federate (m.federate is false)`);
  }
  if (room.origin_joined) return;
  const visibility = parse(room.history_visibility_content);
  if (isObject(visibility) && visibility.history_visibility === 'world_readable') return;
  throw new MatrixError('M_FORBIDDEN', `${origin} has no joined member in ${room.room_id}`);
}

function parse(content: string | null): unknown {
  return content === null ? undefined : JSON.parse(content);
}
