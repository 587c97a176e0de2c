/**
 * The one error type the service answers with. Every error body is `{"errcode": "M_...", "error": "..."}`; the
 * HTTP status comes from one table the compiler checks for completeness.
 */
export const ERRCODE_STATUS = {
  M_BAD_JSON: 400,
  M_NOT_JSON: 400,
  M_INVALID_PARAM: 400,
  M_MISSING_PARAM: 400,
  M_UNAUTHORIZED: 401,
  M_FORBIDDEN: 403,
  M_NOT_FOUND: 404,
  M_UNRECOGNIZED: 404,
  M_TOO_LARGE: 413,
  M_LIMIT_EXCEEDED: 429,
  M_UNKNOWN: 500,
  M_UNAVAILABLE: 503,
} as const satisfies Record<string, number>;

export type ErrCode = keyof typeof ERRCODE_STATUS;

export class MatrixError extends Error {
  readonly status: number;

  constructor(
    readonly errcode: ErrCode,
    message: string,
    status?: number,
    /** For M_LIMIT_EXCEEDED: how long the caller should wait, sent as `retry_after_ms`. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'MatrixError';
    this.status = status ?? ERRCODE_STATUS[errcode];
  }

  toJSON(): { errcode: ErrCode; error: string; retry_after_ms?: number } {
    const body = { errcode: this.errcode, error: this.message };
    return this.retryAfterMs === undefined ? body : { ...body, retry_after_ms: this.retryAfterMs };
  }
}
