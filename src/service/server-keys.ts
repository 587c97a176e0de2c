/**
 * Our own server's published keys (spec: server-server API, "Publishing Keys"): GET /_matrix/key/v2/server
 * returns the verify key, valid for a day, signed by itself.
 */
import { signJson, type SigningKey } from '../core/signing';

export interface LocalServer {
  readonly serverName: string;
  readonly signingKey: SigningKey;
}

const KEY_VALIDITY_MS = 24 * 60 * 60 * 1000;

/** The self-signed key response of `server`, valid for `validityMs` (a day unless given) from `now`. */
export function serverKeysResponse(server: LocalServer, now: number, validityMs = KEY_VALIDITY_MS): Record<string, unknown> {
  return signJson(
    {
      server_name: server.serverName,
      valid_until_ts: now + validityMs,
      verify_keys: { [server.signingKey.keyId]: { key: server.signingKey.publicKey } },
      old_verify_keys: {},
    },
    server.serverName,
    server.signingKey,
  );
}
