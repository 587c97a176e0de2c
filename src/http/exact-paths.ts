/**
 * Every router's options (the federation routes, /health, /metrics; the ops app sets the same): paths match only as
 * the spec writes them, as Synapse's servlets match `^path$`: case-sensitive, and with a trailing slash another path
 * (`/_MATRIX/...`, `.../get_missing_events/{roomId}/` and `/health/` are 404 M_UNRECOGNIZED).
 */
export const EXACT_PATHS = { caseSensitive: true, strict: true } as const;
