/**
 * What the e2e test reads through a homeserver's client API as a user: the room's timeline (/messages, newest
 * first, paged back to the start) and its current state (/state).
 */
import { sleep } from '../../synapse/helpers/homeserver';

export interface ClientEvent {
  readonly event_id: string;
  readonly type: string;
  readonly sender: string;
  readonly state_key?: string;
  readonly content: Record<string, unknown>;
}

export interface ClientSession {
  readonly clientUrl: string;
  readonly accessToken: string;
}

async function get(session: ClientSession, path: string): Promise<unknown> {
  const response = await fetch(`${session.clientUrl}${path}`, { headers: { authorization: `Bearer ${session.accessToken}` } });
  const text = await response.text();
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as unknown;
}

/** The whole timeline the user may see, oldest first, as /messages gives it (paged backwards from the end). */
export async function timeline(session: ClientSession, roomId: string): Promise<ClientEvent[]> {
  const events: ClientEvent[] = [];
  let from: string | undefined;
  for (let page = 0; page < 50; page += 1) {
    const query = new URLSearchParams({ dir: 'b', limit: '100' });
    if (from !== undefined) query.set('from', from);
    const body = (await get(session, `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?${query}`)) as { chunk: ClientEvent[]; end?: string };
    events.push(...body.chunk);
    if (body.end === undefined || body.chunk.length === 0) return events.reverse();
    from = body.end;
  }
  throw new Error(`the timeline of ${roomId} did not end within 50 pages`);
}

/** The room's current state as the user's server holds it: `type|state_key` -> event ID. */
export async function currentState(session: ClientSession, roomId: string): Promise<Record<string, string>> {
  const events = (await get(session, `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state`)) as ClientEvent[];
  return Object.fromEntries(events.map((event) => [`${event.type}|${event.state_key ?? ''}`, event.event_id]).sort());
}

/** Waits until the user's server has every one of the events (they came over federation); a generous cap. */
export async function waitForEvents(session: ClientSession, roomId: string, eventIds: readonly string[], capMs = 60_000): Promise<void> {
  const deadline = Date.now() + capMs;
  for (const eventId of eventIds) {
    for (;;) {
      const response = await fetch(`${session.clientUrl}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(eventId)}`, {
        headers: { authorization: `Bearer ${session.accessToken}` },
      });
      if (response.ok) break;
      if (Date.now() > deadline) throw new Error(`${session.clientUrl} never received ${eventId}: ${response.status} ${await response.text()}`);
      await sleep(100);
    }
  }
}
