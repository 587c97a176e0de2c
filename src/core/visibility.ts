/**
 * Whether a server may see an event (Synapse's `filter_events_for_server`, synapse/visibility.py, with
 * redact=True; spec: client-server API "History visibility" applied per server): the history visibility in force
 * at the event and the server's memberships at the event decide. Like Synapse, both are read from the state AFTER
 * the event (its `get_state_ids_for_events`), and an event whose state we do not know (below a gap) is treated as
 * not visible; Synapse counts an outlier as `shared`, but we keep no outliers, only events waiting for a gap.
 * An event the server may not see is sent redacted, never dropped.
 */

export interface EventVisibility {
  /** False while the event waits for a gap to be filled. */
  readonly state_known: boolean;
  /** The history_visibility of the state after the event; null when there is none (the default is `shared`). */
  readonly history_visibility: string | null;
  /** Whether the server has a user whose membership is `join` (or `invite`) in the state after the event. */
  readonly server_joined: boolean;
  readonly server_invited: boolean;
}

export function isVisibleToServer(event: EventVisibility): boolean {
  if (!event.state_known) return false;
  switch (event.history_visibility) {
    case 'invited':
      return event.server_joined || event.server_invited;
    case 'joined':
      return event.server_joined;
    default:
      // world_readable, shared, no history visibility at all, and values the spec does not name.
      return true;
  }
}
