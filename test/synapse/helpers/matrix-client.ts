/**
 * What the tests do through Synapse's client API as a registered user, and signed federation requests to a Synapse
 * as another server (X-Matrix with that server's key, over HTTPS to the self-signed test certificate).
 */
import { request as httpsRequest } from 'node:https';
import type { SigningKey } from '../../../src/core/signing';
import { signRequest } from '../../../src/core/x-matrix';
import { sleep } from './homeserver';

export class MatrixUser {
  private transaction = 0;

  constructor(
    readonly clientUrl: string,
    readonly userId: string,
    private readonly accessToken: string,
  ) {}

  async createRoom(body: Record<string, unknown>): Promise<string> {
    return ((await this.call('POST', '/_matrix/client/v3/createRoom', body)) as { room_id: string }).room_id;
  }

  async join(roomId: string, via: string): Promise<void> {
    await this.call('POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}?server_name=${encodeURIComponent(via)}`, {});
  }

  async invite(roomId: string, userId: string): Promise<void> {
    await this.call('POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/invite`, { user_id: userId });
  }

  async send(roomId: string, body: string): Promise<string> {
    this.transaction += 1;
    const path = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t${Date.now()}.${this.transaction}`;
    return ((await this.call('PUT', path, { msgtype: 'm.text', body })) as { event_id: string }).event_id;
  }

  async setState(roomId: string, type: string, stateKey: string, content: Record<string, unknown>): Promise<string> {
    const path = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/${type}/${encodeURIComponent(stateKey)}`;
    return ((await this.call('PUT', path, content)) as { event_id: string }).event_id;
  }

  async state(roomId: string, type: string, stateKey = ''): Promise<Record<string, unknown>> {
    return (await this.call('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/${type}/${encodeURIComponent(stateKey)}`)) as Record<string, unknown>;
  }

  async redact(roomId: string, eventId: string, reason: string): Promise<string> {
    this.transaction += 1;
    const path = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/redact/${encodeURIComponent(eventId)}/r${Date.now()}.${this.transaction}`;
    return ((await this.call('PUT', path, { reason })) as { event_id: string }).event_id;
  }

  /** Waits until this user's server has the event (it came over federation). */
  async waitForEvent(roomId: string, eventId: string): Promise<void> {
    const path = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(eventId)}`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const response = await fetch(`${this.clientUrl}${path}`, { headers: { authorization: `Bearer ${this.accessToken}` } });
      if (response.ok) return;
      if (Date.now() > deadline) throw new Error(`${this.userId}'s server never received ${eventId}: ${response.status} ${await response.text()}`);
      await sleep(100);
    }
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.clientUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.accessToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} as ${this.userId}: ${response.status} ${text}`);
    return JSON.parse(text) as unknown;
  }
}

export interface FederationRequest {
  /** `https://127.0.0.1:<port>` or `http://...`. */
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly origin: string;
  readonly destination: string;
  readonly key: SigningKey;
  readonly body?: unknown;
}

/** A federation request signed with X-Matrix as `origin`; the status and parsed body. */
export function federationRequest(request: FederationRequest): Promise<{ status: number; json: unknown }> {
  const authorization = signRequest({
    method: request.method,
    uri: request.path,
    origin: request.origin,
    destination: request.destination,
    content: request.body,
    key: request.key,
  });
  const headers: Record<string, string> = { authorization };
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  const target = new URL(request.url);
  if (target.protocol === 'http:') {
    return fetch(`${request.url}${request.path}`, {
      method: request.method,
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
    }).then(async (response) => ({ status: response.status, json: JSON.parse(await response.text()) as unknown }));
  }
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: target.hostname, port: Number(target.port), method: request.method, path: request.path, headers, rejectUnauthorized: false, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as unknown });
          } catch {
            reject(new Error(`${request.method} ${request.path}: ${res.statusCode} not JSON: ${text.slice(0, 200)}`));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(request.body === undefined ? undefined : JSON.stringify(request.body));
  });
}
