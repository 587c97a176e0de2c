/**
 * Whether a string is a user ID as the authorization rules must accept one (spec appendices, "User Identifiers"
 * and "Historical User IDs"): `@localpart:server_name`, at most 255 bytes. Servers "MUST accept user IDs with
 * localparts consisting of any legal non-surrogate Unicode code points except for `:` and `NUL`", the empty
 * localpart included, so only the sigil, the colon, NUL and the server name are checked.
 */
import { isValidServerName } from './server-name';

const MAX_USER_ID_BYTES = 255;
// A UTF-16 surrogate not part of a pair: JSON's \ud800 escapes can carry one, and it is no code point.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isValidUserId(value: unknown): value is string {
  if (typeof value !== 'string' || !value.startsWith('@') || Buffer.byteLength(value) > MAX_USER_ID_BYTES) return false;
  const colon = value.indexOf(':');
  if (colon < 0) return false;
  const localpart = value.slice(1, colon);
  return !localpart.includes('\0') && !LONE_SURROGATE.test(localpart) && isValidServerName(value.slice(colon + 1));
}
