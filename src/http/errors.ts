/**
 * The error middleware: a MatrixError becomes its status and `{"errcode", "error"}`; body-parser's errors become
 * M_TOO_LARGE and M_NOT_JSON; anything else is a 500 M_UNKNOWN with a generic message, its details logged only.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { MatrixError } from '../errors';
import type { Logger } from '../logger';

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const matrixError = toMatrixError(error);
    if (matrixError.errcode === 'M_UNKNOWN') {
      logger.error('request failed', { request_id: res.locals.requestId, path: req.path, error: describe(error) });
    }
    res.locals.errcode = matrixError.errcode;
    if (res.headersSent) return;
    res.status(matrixError.status).json(matrixError.toJSON());
  };
}

function toMatrixError(error: unknown): MatrixError {
  if (error instanceof MatrixError) return error;
  const status = (error as { status?: unknown; type?: unknown }).status;
  const type = (error as { type?: unknown }).type;
  if (type === 'entity.too.large' || status === 413) return new MatrixError('M_TOO_LARGE', 'The request body is too large');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new MatrixError('M_NOT_JSON', 'The request body must be UTF-8 JSON');
  }
  if (type === 'request.aborted') return new MatrixError('M_BAD_JSON', 'The request body was not received in full');
  // The router could not percent-decode a path parameter (it marks the URIError with status 400).
  if (error instanceof URIError && status === 400) {
    return new MatrixError('M_INVALID_PARAM', 'The request path is not valid percent-encoded UTF-8');
  }
  return new MatrixError('M_UNKNOWN', 'Internal server error');
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
