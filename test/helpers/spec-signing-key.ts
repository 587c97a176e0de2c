/**
 * The signing key of the spec's test vectors (appendices, "Signing JSON" and "Signing Events"): seed
 * `YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1`, key ID `ed25519:1`, server `domain`; with tweetnacl's key pair from
 * the same seed, as an independent second implementation.
 */
import nacl from 'tweetnacl';
import { decodeBase64, encodeBase64 } from '../../src/core/base64';
import { signingKeyFromSeed } from '../../src/core/signing';

export const SPEC_SEED_TEXT = 'YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1';
export const SPEC_SEED = decodeBase64(SPEC_SEED_TEXT)!;
export const SPEC_KEY = signingKeyFromSeed('1', SPEC_SEED);
export const SPEC_NACL_PAIR = nacl.sign.keyPair.fromSeed(SPEC_SEED);
export const SPEC_PUBLIC_KEY = encodeBase64(SPEC_NACL_PAIR.publicKey);
