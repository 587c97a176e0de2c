/**
 * The demo room `npm start` imports into an empty database, and the generated servers' keys, which the service
 * is told about as if it had fetched them (their names end in .test and cannot be reached), so the README's
 * signed request works right after start.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeRoom } from '../generator/write-room';
import { keysFilePath, readKeysFile, type RoomKeys } from '../generator/keys-file';
import type { ServerKeyStore } from '../federation/key-fetcher';
import { usableUntil, WEEK } from '../federation/key-response';
import { serverKeysResponse } from './server-keys';

export const DEMO_SEED = 'maxtryx-demo';

export function demoRoomFile(dataDir: string): string {
  return join(dataDir, 'demo-room.jsonl');
}

/**
 * Generates the demo room file once; returns its keys. It ends with a rejected, a soft-failed and a missing event
 * (src/generator/irregular-events.ts), so an analyst sees each kind in the Browser.
 */
export async function ensureDemoRoomFile(dataDir: string, events: number): Promise<RoomKeys> {
  const file = demoRoomFile(dataDir);
  if (!existsSync(keysFilePath(file))) await writeRoom({ events, roomVersion: '10', seed: DEMO_SEED, irregular: true }, file);
  return readKeysFile(keysFilePath(file));
}

/** Stores each generated server's self-signed key response, as if fetched `now`, usable for the spec's 7 days. */
export async function registerRoomKeys(keys: RoomKeys, store: ServerKeyStore, now: number): Promise<void> {
  for (const [serverName, signingKey] of keys.servers) {
    const response = serverKeysResponse({ serverName, signingKey }, now, WEEK);
    await store.save(serverName, { response, fetchedTs: now, validUntilTs: usableUntil(now + WEEK, now) });
  }
}
