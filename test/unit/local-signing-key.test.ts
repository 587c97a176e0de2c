import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { loadOrCreateSigningKey } from '../../src/federation/local-signing-key';
import { decodeBase64 } from '../../src/core/base64';

describe('our signing key file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'signing-key-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is generated in Synapse format with mode 0600 when absent, and read back unchanged', () => {
    const path = join(dir, 'sub', 'signing.key');
    const first = loadOrCreateSigningKey(path);
    expect(first.created).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const text = readFileSync(path, 'utf8');
    expect(text).toMatch(/^ed25519 a_[A-Za-z0-9]{4} [A-Za-z0-9+/]{43}\n$/);
    expect(`ed25519:${text.split(' ')[1]}`).toBe(first.key.keyId);
    // The public key is the one tweetnacl derives from the seed in the file.
    const seed = decodeBase64(text.trim().split(' ')[2]!)!;
    const publicKey = Buffer.from(nacl.sign.keyPair.fromSeed(seed).publicKey).toString('base64').replace(/=+$/, '');
    expect(first.key.publicKey).toBe(publicKey);

    const second = loadOrCreateSigningKey(path);
    expect(second.created).toBe(false);
    expect(second.key.keyId).toBe(first.key.keyId);
    expect(second.key.publicKey).toBe(first.key.publicKey);
  });
});
