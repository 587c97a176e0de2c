/**
 * The keys of a generated room's servers, written next to the room as `<out>.keys.json`, so requests can be signed
 * as those servers and the service can be told their public keys: `{room_id, room_version, servers: {name: key}}`
 * where each key is a line of Synapse's signing key format (`ed25519 <version> <seed>`).
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { formatSigningKeyFile, parseSigningKeyFile, type SigningKey } from '../core/signing';

export interface RoomKeys {
  readonly room_id: string;
  readonly room_version: string;
  readonly servers: ReadonlyMap<string, SigningKey>;
}

export function keysFilePath(roomFile: string): string {
  return `${roomFile}.keys.json`;
}

export function writeKeysFile(path: string, keys: RoomKeys): void {
  const servers = Object.fromEntries([...keys.servers].map(([name, key]) => [name, formatSigningKeyFile(key).trim()]));
  writeFileSync(path, `${JSON.stringify({ room_id: keys.room_id, room_version: keys.room_version, servers }, null, 2)}\n`, {
    mode: 0o600,
  });
  // writeFileSync's mode applies only to a file it creates; a keys file written over an older one must not keep
  // that file's wider permissions, since it holds the servers' private keys.
  chmodSync(path, 0o600);
}

export function readKeysFile(path: string): RoomKeys {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as { room_id: string; room_version: string; servers: Record<string, string> };
  const servers = new Map(Object.entries(parsed.servers).map(([name, line]) => [name, parseSigningKeyFile(line)[0]!]));
  return { room_id: parsed.room_id, room_version: parsed.room_version, servers };
}
