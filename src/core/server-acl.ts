/**
 * Server ACLs (`m.room.server_acl`; server-server API, "Server Access Control Lists (ACLs)"). The caller decides
 * what a room without an ACL event means (the spec: allow); this evaluates the content of one that exists.
 */
import { parseServerName } from './server-name';
import { isObject } from './json';

/**
 * Whether `serverName` may take part in a room whose `m.room.server_acl` content is `aclContent`, in the order the
 * event's schema gives: IP literals when `allow_ip_literals` is false, then `deny`, then `allow`, else deny.
 * Malformed content is read as Synapse reads it: a non-boolean `allow_ip_literals` counts as true, a non-array
 * `allow` or `deny` as an empty list, and entries that are not strings are skipped.
 */
export function serverAclAllows(aclContent: unknown, serverName: string): boolean {
  const content = isObject(aclContent) ? aclContent : {};
  // Globs match the name as the grammar reads it; a name outside the grammar (`evil.com.`, `1.2.3.4.`) could dodge a
  // deny by a spelling that a resolver reads as the denied host, so it is denied whatever the ACL says.
  const parsed = parseServerName(serverName);
  if (!parsed.ok) return false;
  // "the suspect server's port number must not be considered": evil.com:1234 is judged as evil.com.
  const host = parsed.serverName.hostname;

  const allowIpLiterals = typeof content.allow_ip_literals === 'boolean' ? content.allow_ip_literals : true;
  if (!allowIpLiterals && parsed.serverName.kind !== 'dns') return false;

  if (globs(content.deny).some((glob) => globMatches(glob, host))) return false;
  // A missing or empty `allow` "defaults to an empty list ..., effectively disallowing every server".
  return globs(content.allow).some((glob) => globMatches(glob, host));
}

/**
 * Glob-style matching (spec appendices, "Glob-style matching"): `*` is zero or more characters, `?` exactly one,
 * and the ACL schema makes it case-insensitive. This walks the pattern with one backtrack point instead of
 * compiling a regular expression, so a pattern from room state such as `*a*a*a*a*b` costs at most
 * length(pattern) x length(name) steps rather than backtracking exponentially.
 */
export function globMatches(glob: string, name: string): boolean {
  const pattern = Array.from(glob.toLowerCase());
  const text = Array.from(name.toLowerCase());
  let p = 0;
  let t = 0;
  let starAt = -1;
  let starText = 0;
  while (t < text.length) {
    const c = pattern[p];
    if (c === '?' || (c !== undefined && c !== '*' && c === text[t])) {
      p++;
      t++;
    } else if (c === '*') {
      starAt = p++;
      starText = t;
    } else if (starAt >= 0) {
      // Let the last `*` swallow one more character and try the rest of the pattern again.
      p = starAt + 1;
      t = ++starText;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

function globs(list: unknown): string[] {
  return Array.isArray(list) ? list.filter((entry): entry is string => typeof entry === 'string') : [];
}

