/** isVisibleToServer: Synapse's filter_events_for_server rule, one row per case. */
import { isVisibleToServer, type EventVisibility } from '../../src/core/visibility';

const at = (history_visibility: string | null, server_joined: boolean, server_invited: boolean, state_known = true): EventVisibility => ({
  state_known, history_visibility, server_joined, server_invited,
});

it.each([
  ['world_readable, not in the room', at('world_readable', false, false), true],
  ['shared, not in the room', at('shared', false, false), true],
  ['no history visibility (shared by default)', at(null, false, false), true],
  ['an unknown value counts as shared', at('everyone', false, false), true],
  ['invited, joined', at('invited', true, false), true],
  ['invited, invited', at('invited', false, true), true],
  ['invited, neither', at('invited', false, false), false],
  ['joined, joined', at('joined', true, false), true],
  ['joined, only invited', at('joined', false, true), false],
  ['joined, neither', at('joined', false, false), false],
  ['state unknown (below a gap), even world_readable', at('world_readable', true, false, false), false],
])('%s', (_name, event, visible) => {
  expect(isVisibleToServer(event)).toBe(visible);
});
