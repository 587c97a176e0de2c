/**
 * The keys of a generated room's servers, written next to the room as `<out>.keys.json`, so requests can be signed
 * as those servers and the service can be told their public keys: `{room_id, room_version, servers: {name: key}}`
 * where each key is a line of Synapse's signing key format (`ed25519 <version> <seed>`).
 */
import { closeSync, fchmodSync, openSync, readFileSync, writeFileSync } from 'node:fs';
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
  const text = `${JSON.stringify({ room_id: keys.room_id, room_version: keys.room_version, servers }, null, 2)}\n`;
  // The mode given to open applies only to a file it creates; one written over an older keys file must not keep that
  // file's wider permissions, since it holds the servers' private keys: narrow them before writing.
  const fd = openSync(path, 'w', 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeFileSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

export function readKeysFile(path: string): RoomKeys {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as { room_id: string; room_version: string; servers: Record<string, string> };
  const servers = new Map(Object.entries(parsed.servers).map(([name, line]) => [name, parseSigningKeyFile(line)[0]!]));
  return { room_id: parsed.room_id, room_version: parsed.room_version, servers };
}
