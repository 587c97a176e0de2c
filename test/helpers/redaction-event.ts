/**
 * An m.room.redaction built with the RoomBuilder for any room version: `redacts` in content from v11, at the top
 * level before, where the builder does not write it (the event is signed again by the sender's server).
 */
import { computeEventId, hashAndSignEvent } from '../../src/core/event-hashes';
import { serverNameOf } from '../../src/core/identifiers';
import type { BuiltEvent, RoomBuilder } from '../../src/generator/room-builder';

/**
 * Adds a redaction of `target` by `sender` to `r`. Call it last on a branch: for v1-v10 the builder's later events
 * would cite the event it built first, not the one returned (pass `prev` explicitly after it).
 */
export function addRedaction(r: RoomBuilder, sender: string, target: string, prev?: readonly BuiltEvent[]): BuiltEvent {
  if (r.version.redactionV11) {
    return r.add({ type: 'm.room.redaction', sender, content: { redacts: target, reason: 'spam' }, ...(prev ? { prev } : {}) });
  }
  const built = r.add({ type: 'm.room.redaction', sender, content: { reason: 'spam' }, ...(prev ? { prev } : {}) });
  r.events.pop();
  const { hashes: _hashes, signatures: _signatures, ...fields } = built.pdu;
  const server = serverNameOf(sender)!;
  const pdu = hashAndSignEvent({ ...fields, redacts: target }, r.version, server, r.keyOf(server));
  const event: BuiltEvent = { ...built, event_id: computeEventId(pdu, r.version)!, pdu };
  r.events.push(event);
  return event;
}
