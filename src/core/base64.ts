/** Unpadded Base64, as the Matrix spec uses it (appendices, "Unpadded Base64"), and its URL-safe variant. */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/=+$/, '');
}

export function encodeBase64UrlSafe(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64_URL = /^[A-Za-z0-9\-_]*={0,2}$/;

/** Decodes padded or unpadded, standard or URL-safe Base64; returns undefined for anything else. */
export function decodeBase64(text: string): Buffer | undefined {
  if (typeof text !== 'string' || (!BASE64.test(text) && !BASE64_URL.test(text))) return undefined;
  const unpadded = text.replace(/=+$/, '');
  if (unpadded.length % 4 === 1) return undefined;
  return Buffer.from(unpadded.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}
