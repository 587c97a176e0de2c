/**
 * Server names (spec appendices, "Server Name"): `hostname [ ":" port ]`, where the hostname is a dotted-quad IPv4
 * literal, a bracketed IPv6 literal or a DNS name. Server discovery, the X-Matrix header and room IDs all carry them.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type HostKind = 'dns' | 'ipv4' | 'ipv6';

export interface ServerName {
  /** The hostname as written: a DNS name, an IPv4 literal, or an IPv6 literal with its brackets. */
  readonly hostname: string;
  /** Where to connect: the hostname, except that an IPv6 literal loses its brackets. */
  readonly address: string;
  readonly port: number | undefined;
  readonly kind: HostKind;
}

export type ServerNameResult =
  { readonly ok: true; readonly serverName: ServerName } | { readonly ok: false; readonly reason: string };

// The grammar's `dns-name = 1*255dns-char`, read as Synapse reads it (VALID_HOST_REGEX in synapse/util/stringutils.py):
// labels of letters, digits and "-" joined by single dots, so no empty label and no trailing dot. `evil.com.` and
// `a..b` name the same hosts as `evil.com` and `a.b` to a resolver, and would slip past a server ACL that denies those.
const DNS_CHARS = /^[A-Za-z0-9.-]{1,255}$/;
const DNS_LABELS = /^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$/;
// The grammar's `IPv6address = 2*45IPv6char`.
const IPV6_CHARS = /^[0-9A-Fa-f:.]{2,45}$/;
const DOTTED_NUMBERS = /^\d+\.\d+\.\d+\.\d+$/;
const PORT = /^\d{1,5}$/;

export function parseServerName(text: string): ServerNameResult {
  if (typeof text !== 'string' || text.length === 0) return invalid('a server name is a non-empty string');
  let hostname: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return invalid(`"${text}" opens an IPv6 literal with "[" but never closes it`);
    hostname = text.slice(0, close + 1);
    const rest = text.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':'))
      return invalid(`"${text}" has characters after its IPv6 literal that are not a port`);
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = text.lastIndexOf(':');
    hostname = colon < 0 ? text : text.slice(0, colon);
    portText = colon < 0 ? undefined : text.slice(colon + 1);
  }

  let port: number | undefined;
  if (portText !== undefined) {
    // The grammar allows five digits; a port that TCP cannot use is no address at all.
    if (!PORT.test(portText) || Number(portText) > 65535)
      return invalid(`"${text}" has a port that is not a number from 0 to 65535`);
    port = Number(portText);
  }

  if (hostname.startsWith('[')) {
    const inner = hostname.slice(1, -1);
    // IPv6char excludes "%", so zone IDs (fe80::1%eth0), which node would accept, are not server names.
    if (!IPV6_CHARS.test(inner) || !isIPv6(inner)) return invalid(`"${hostname}" is not an IPv6 literal`);
    return { ok: true, serverName: { hostname, address: inner, port, kind: 'ipv6' } };
  }
  // "IPv4 literals must be a sequence of four decimal numbers in the range 0 to 255": four dotted numbers are
  // an IPv4 literal or nothing, never a DNS name.
  if (DOTTED_NUMBERS.test(hostname)) {
    if (!isIPv4(hostname) || hostname.split('.').some((part) => part.length > 3)) {
      return invalid(`"${hostname}" is not an IPv4 literal: four numbers from 0 to 255`);
    }
    return { ok: true, serverName: { hostname, address: hostname, port, kind: 'ipv4' } };
  }
  if (!DNS_CHARS.test(hostname)) return invalid(`"${hostname}" is not a DNS name: letters, digits, "-" and "." only`);
  if (!DNS_LABELS.test(hostname)) {
    return invalid(`"${hostname}" is not a DNS name: labels are joined by single dots, with none at either end`);
  }
  return { ok: true, serverName: { hostname, address: hostname, port, kind: 'dns' } };
}

export function isValidServerName(text: string): boolean {
  return parseServerName(text).ok;
}

/** Whether a hostname (with or without brackets, no port) is an IPv4 or IPv6 address literal. */
export function isIpLiteral(hostname: string): boolean {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIPv4(bare) || isIPv6(bare);
}

/** The hostname of a server name without its port, keeping an IPv6 literal's brackets: `[::1]:8448` -> `[::1]`. */
export function stripPort(serverName: string): string {
  if (serverName.startsWith('[')) {
    const close = serverName.indexOf(']');
    return close < 0 ? serverName : serverName.slice(0, close + 1);
  }
  const colon = serverName.lastIndexOf(':');
  return colon < 0 ? serverName : serverName.slice(0, colon);
}

function invalid(reason: string): ServerNameResult {
  return { ok: false, reason };
}
