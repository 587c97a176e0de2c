/**
 * Our own signing key, in Synapse's key file format (`ed25519 <version> <unpadded base64 seed>`), at
 * SIGNING_KEY_PATH; generated with mode 0600 when the file does not exist.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { formatSigningKeyFile, generateSigningKey, parseSigningKeyFile, type SigningKey } from '../core/signing';

export function loadOrCreateSigningKey(path: string): { key: SigningKey; created: boolean } {
  if (existsSync(path)) {
    const [key] = parseSigningKeyFile(readFileSync(path, 'utf8'));
    if (key === undefined) throw new Error(`SIGNING_KEY_PATH ${path} holds no key`);
    return { key, created: false };
  }
  const key = generateSigningKey(`a_${randomBytes(3).toString('base64url').replace(/[-_]/g, 'x')}`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, formatSigningKeyFile(key), { mode: 0o600, flag: 'wx' });
  return { key, created: true };
}
