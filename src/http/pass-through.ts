/**
 * The pass-through to the homeserver (UPSTREAM_FEDERATION_URL): a get_missing_events request whose latest_events we
 * do not all hold as events of the room (we are behind the homeserver, or hold one only as a placeholder) is not
 * answered from a partial graph; the handler (src/http/routes.ts) hands it here and it goes to the homeserver
 * unchanged: the same method, the same URI as received, the same body bytes, every Authorization header and the
 * Content-Type. The X-Matrix signature covers method, URI, origin, destination and body, so the request is as valid
 * there as it was here. The homeserver's status, Content-Type, Retry-After and body come back as they are.
 *
 * Nothing here knows what the homeserver is beyond its URL. One time budget covers connecting, sending and reading
 * the whole answer; a homeserver that cannot be reached, breaks off or answers too much gets 502 M_UNAVAILABLE, one
 * that does not answer in time 504 M_UNAVAILABLE, both with a generic message (the detail goes to our log).
 */
import type { IncomingMessage } from 'node:http';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Request, Response } from 'express';
import { MatrixError } from '../errors';
import type { Logger } from '../logger';

export type PassThroughOutcome = 'answered' | 'failed' | 'timed_out';

/** Counts for GET /metrics (src/http/metrics.ts): each pass-through's outcome and how long it took. */
export interface PassThroughMetrics {
  record(outcome: PassThroughOutcome, seconds: number): void;
}

export interface PassThroughOptions {
  /** UPSTREAM_FEDERATION_URL: the homeserver's federation listener, `http(s)://host:port` with no path. */
  readonly url: string;
  /** UPSTREAM_FEDERATION_VERIFY_TLS: false accepts any certificate (a homeserver's self-signed one on loopback). */
  readonly verifyTls: boolean;
  /** UPSTREAM_FEDERATION_TIMEOUT_MS: from the start of the connection to the last byte of the answer. */
  readonly timeoutMs: number;
  /** The largest answer relayed; DEFAULT_MAX_ANSWER_BYTES unless given. */
  readonly maxAnswerBytes?: number;
  readonly metrics?: PassThroughMetrics;
  readonly logger: Logger;
}

export interface PassThrough {
  /** Sends `req` (its body as received: `body`) to the homeserver and answers `res` with what it answers. */
  forward(req: Request, res: Response, body: Buffer): Promise<void>;
  /** Closes the kept-alive connections to the homeserver. */
  close(): void;
}

/** get_missing_events answers hold at most a few dozen PDUs of at most 64 KiB each. */
export const DEFAULT_MAX_ANSWER_BYTES = 8 * 1024 * 1024;
export const UNREACHABLE_MESSAGE = 'The homeserver could not answer this request; retry shortly';
export const TIMED_OUT_MESSAGE = 'The homeserver did not answer this request in time; retry shortly';

interface Answer {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

class UpstreamTimeout extends Error {}

export function createPassThrough(options: PassThroughOptions): PassThrough {
  const target = new URL(options.url);
  const secure = target.protocol === 'https:';
  // Kept-alive connections: a pass-through costs one round trip, not a TCP and TLS handshake each.
  const agent = secure ? new HttpsAgent({ keepAlive: true, rejectUnauthorized: options.verifyTls }) : new HttpAgent({ keepAlive: true });
  const maxBytes = options.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES;

  const send = (req: Request, body: Buffer, gone: AbortSignal): Promise<Answer> =>
    new Promise<Answer>((resolve, reject) => {
      const headers: Record<string, string | string[]> = { 'content-length': String(body.length) };
      // Every Authorization header, in order: Node keeps only the first in req.headers.
      const authorization = req.headersDistinct.authorization;
      if (authorization !== undefined) headers.authorization = authorization;
      const contentType = req.headers['content-type'];
      if (contentType !== undefined) headers['content-type'] = contentType;
      const upstream = (secure ? httpsRequest : httpRequest)({
        protocol: target.protocol,
        hostname: target.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: target.port || (secure ? 443 : 80),
        method: req.method,
        // The request-target exactly as the caller sent it (percent-encoding and query included): the signature covers it.
        path: req.originalUrl,
        headers,
        agent,
        signal: gone,
      });
      // One way out: the first of the answer, an error of any phase (connecting, sending, the headers, the body), a
      // close, or the timer settles the promise. The timer and the size cap destroy the request without an error
      // (one passed to destroy() after the headers is emitted where nothing listens any more) and say why in flags.
      let timedOut = false;
      let settled = false;
      let gotResponse = false;
      let failure: Error | undefined;
      const timer = setTimeout(() => {
        timedOut = true;
        upstream.destroy();
      }, options.timeoutMs);
      const settle = (error: Error | undefined, answer?: Answer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (timedOut) reject(new UpstreamTimeout(`no complete answer within ${options.timeoutMs} ms`));
        else if (failure ?? error) reject(failure ?? error);
        else resolve(answer!);
      };
      upstream.on('error', (error) => settle(error));
      // Closed with no answer and no error (node emits none for some ways of ending): still an end.
      upstream.on('close', () => {
        if (!gotResponse) settle(new Error('the connection closed before an answer'));
      });
      upstream.on('response', (response) => {
        gotResponse = true;
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            failure = new Error(`the answer is larger than ${maxBytes} bytes`);
            return void upstream.destroy();
          }
          chunks.push(chunk);
        });
        response.on('error', (error) => settle(error));
        // 'aborted' and a premature close end the body without 'end': a partial answer is no answer.
        response.on('close', () => {
          if (!response.complete) settle(new Error('the connection closed before the answer was complete'));
        });
        response.on('end', () => settle(undefined, { status: response.statusCode ?? 502, headers: response.headers, body: Buffer.concat(chunks) }));
      });
      upstream.end(body);
    });

  return {
    async forward(req, res, body) {
      const started = performance.now();
      // A caller that hangs up ends its pass-through too.
      const gone = new AbortController();
      const onClose = () => {
        if (!res.writableFinished) gone.abort();
      };
      res.once('close', onClose);
      let outcome: PassThroughOutcome = 'answered';
      try {
        const answer = await send(req, body, gone.signal);
        if (res.headersSent) return; // the request deadline answered meanwhile
        res.status(answer.status);
        for (const name of ['content-type', 'retry-after'] as const) {
          const value = answer.headers[name];
          if (value !== undefined) res.setHeader(name, value);
        }
        res.end(answer.body);
      } catch (error) {
        outcome = error instanceof UpstreamTimeout ? 'timed_out' : 'failed';
        options.logger.warn('pass-through failed', { request_id: res.locals.requestId, outcome, error: (error as Error).message });
        throw outcome === 'timed_out'
          ? new MatrixError('M_UNAVAILABLE', TIMED_OUT_MESSAGE, 504)
          : new MatrixError('M_UNAVAILABLE', UNREACHABLE_MESSAGE, 502);
      } finally {
        res.off('close', onClose);
        options.metrics?.record(outcome, (performance.now() - started) / 1000);
      }
    },
    close() {
      agent.destroy();
    },
  };
}
