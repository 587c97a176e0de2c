/**
 * The error middleware: a MatrixError becomes its status and `{"errcode", "error"}`; body-parser's errors become
 * M_TOO_LARGE and M_NOT_JSON (a body its Content-Encoding does not describe too, logged at info: the caller's fault); Neo4j being unreachable, busy or too slow becomes 503 M_UNAVAILABLE with
 * Retry-After; anything else is a 500 M_UNKNOWN with a generic message, its details logged only.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { Neo4jError } from 'neo4j-driver';
import { MatrixError } from '../errors';
import type { Logger } from '../logger';
import { meansNeo4jIsGone } from '../store/availability';

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    // The deadline answered already (src/http/deadline.ts); what fails now is the late answer, dropped on purpose.
    if (res.locals.deadlineExceeded === true && res.headersSent) return;
    const undecodable = undecodableBody(error, req.headers['content-encoding']);
    if (undecodable !== undefined) {
      // The caller's mistake, not ours: a line at info without a stack, as for any other bad request.
      logger.info('request body does not decode', { request_id: res.locals.requestId, path: req.path, reason: undecodable.message });
    }
    const matrixError = undecodable ?? toMatrixError(error);
    if (matrixError.errcode === 'M_UNKNOWN' || matrixError.errcode === 'M_UNAVAILABLE') {
      logger.error('request failed', { request_id: res.locals.requestId, path: req.path, error: describe(error) });
    }
    res.locals.errcode = matrixError.errcode;
    if (res.headersSent) return;
    if (matrixError.errcode === 'M_UNAVAILABLE') res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    res.status(matrixError.status).json(matrixError.toJSON());
  };
}

/** How long a caller should wait after a 503: Neo4j restarts in a few seconds, and the driver reconnects by itself. */
const RETRY_AFTER_SECONDS = 2;

function toMatrixError(error: unknown): MatrixError {
  if (error instanceof MatrixError) return error;
  if (isDatabaseUnavailable(error)) {
    return new MatrixError('M_UNAVAILABLE', 'The room graph is unavailable at the moment; retry shortly');
  }
  const status = (error as { status?: unknown; type?: unknown }).status;
  const type = (error as { type?: unknown }).type;
  if (type === 'entity.too.large' || status === 413) return new MatrixError('M_TOO_LARGE', 'The request body is too large');
  if (type === 'charset.unsupported') return new MatrixError('M_NOT_JSON', 'The request body must be UTF-8 JSON');
  if (type === 'request.aborted') return new MatrixError('M_BAD_JSON', 'The request body was not received in full');
  // The router could not percent-decode a path parameter (it marks the URIError with status 400).
  if (error instanceof URIError && status === 400) {
    return new MatrixError('M_INVALID_PARAM', 'The request path is not valid percent-encoded UTF-8');
  }
  return new MatrixError('M_UNKNOWN', 'Internal server error');
}

/**
 * A body its Content-Encoding does not describe, as 400 M_NOT_JSON naming the encoding: one the body parser cannot
 * decode (it decodes gzip, deflate and br), or bytes that are not what the header says (zlib's and brotli's errors,
 * which the body parser passes on with status 400 and no type). Synapse, which decodes no request encoding, answers
 * such a body 400 M_NOT_JSON too. Undefined for any other error.
 */
function undecodableBody(error: unknown, contentEncoding: string | undefined): MatrixError | undefined {
  const { status, type, errno, code } = error as { status?: unknown; type?: unknown; errno?: unknown; code?: unknown };
  if (type === 'encoding.unsupported') {
    return new MatrixError(
      'M_NOT_JSON',
      `The request's Content-Encoding "${contentEncoding ?? ''}" is not supported; send the body as identity, gzip, deflate or br`,
    );
  }
  if (status === 400 && type === undefined && typeof errno === 'number' && contentEncoding !== undefined) {
    // zlib's code, not its message: the message of a stream that ended too soon reads "unexpected end of file".
    const what = code === 'Z_BUF_ERROR' ? 'it ends too soon' : 'it is corrupt';
    return new MatrixError('M_NOT_JSON', `The request body is not valid ${contentEncoding} data: ${what}`);
  }
  return undefined;
}

/**
 * neo4j-driver's errors that mean "not now" rather than "wrong": Neo4j gone (src/store/availability.ts), no free
 * connection in time, a transient server error, or the query's timeout (NEO4J_QUERY_TIMEOUT_MS).
 */
function isDatabaseUnavailable(error: unknown): boolean {
  if (meansNeo4jIsGone(error)) return true;
  if (!(error instanceof Neo4jError)) return false;
  return (
    error.code.startsWith('Neo.TransientError.') ||
    error.code === 'Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration' ||
    /acquisition timed out/i.test(error.message)
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error);
}

/** The spec's rule for an endpoint that exists without this method: 405 M_UNRECOGNIZED. */
export const methodNotAllowed: RequestHandler = (req, _res, next) => {
  next(new MatrixError('M_UNRECOGNIZED', `${req.method} is not allowed on ${req.path}`, 405));
};

export const notFound: RequestHandler = (req, _res, next) => {
  next(new MatrixError('M_UNRECOGNIZED', `Unrecognized request: ${req.method} ${req.path}`));
};
