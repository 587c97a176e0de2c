/**
 * Requests Node's HTTP parser refuses before Express sees them (broken framing, an oversized header block, a bad
 * method token): node answers a bare `400 Bad Request` with no body by default. This answers them as every other bad
 * request is answered, with a Matrix error saying what was wrong, then closes the connection (the stream cannot be
 * read further).
 */
import type { Express } from 'express';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** Node's parser error codes we can name for the caller; anything else is "not valid HTTP/1.1". */
const REASONS: Readonly<Record<string, { status: number; reason: string; error: string }>> = {
  HPE_HEADER_OVERFLOW: { status: 431, reason: 'Request Header Fields Too Large', error: 'The request headers are too large' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, reason: 'Request Timeout', error: 'The request was not received in time' },
  HPE_HEADERS_TIMEOUT: { status: 408, reason: 'Request Timeout', error: 'The request headers were not received in time' },
};

export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // A connection reset or closed by the caller has no one left to answer.
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const known = REASONS[error.code ?? ''];
    const status = known?.status ?? 400;
    const body = JSON.stringify({
      errcode: 'M_UNRECOGNIZED',
      error: known?.error ?? `The request is not valid HTTP/1.1 (${error.code ?? 'parse error'})`,
    });
    socket.end(
      `HTTP/1.1 ${status} ${known?.reason ?? 'Bad Request'}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}

/** Starts `app` on host:port with client errors answered as above; resolves once it listens. */
export async function listen(app: Express, port: number, host: string): Promise<Server> {
  const server = app.listen(port, host);
  answerClientErrors(server);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return server;
}
