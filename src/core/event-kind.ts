/**
 * The kind of an event, stored as one extra label on its node so that Neo4j Browser can colour events by kind and
 * analysts can match on it (`MATCH (e:Membership)`). Exactly one per stored event.
 */
export type EventKind = 'Create' | 'Membership' | 'PowerLevels' | 'StateEvent' | 'Message';

export function eventKind(type: string, stateKey: string | null | undefined): EventKind {
  if (stateKey === null || stateKey === undefined) return 'Message';
  if (type === 'm.room.create') return 'Create';
  if (type === 'm.room.member') return 'Membership';
  if (type === 'm.room.power_levels') return 'PowerLevels';
  return 'StateEvent';
}
