/**
 * Addresses a federation request must not reach unless FEDERATION_ALLOW_PRIVATE_ADDRESSES is set: the IANA
 * special-purpose ranges that are not globally reachable (RFC 6890) - loopback, private, link-local, unique-local,
 * carrier-grade NAT, documentation, multicast and reserved. A server name is chosen by whoever sends us a request,
 * so without this a key fetch would be a way into our own network.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

const IPV4_RANGES: readonly [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];

const IPV6_RANGES: readonly [string, number][] = [
  // IPv4-compatible addresses (deprecated by RFC 4291), :: and ::1 among them: ::a.b.c.d is IPv4 in disguise.
  ['::', 96],
  // IPv4-translated addresses (RFC 2765's SIIT), ::ffff:0:a.b.c.d, which a translator would send to a.b.c.d.
  ['::ffff:0:0:0', 96],
  // Local-use NAT64 (RFC 8215): a prefix of the operator's own choosing, so whatever it reaches is theirs.
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
];

const blocked = new BlockList();
for (const [address, prefix] of IPV4_RANGES) blocked.addSubnet(address, prefix, 'ipv4');
for (const [address, prefix] of IPV6_RANGES) blocked.addSubnet(address, prefix, 'ipv6');

/** Whether `address` (an IPv4 or IPv6 literal without brackets) is one we refuse to connect to. */
export function isPrivateAddress(address: string): boolean {
  if (isIPv4(address)) return blocked.check(address, 'ipv4');
  if (!isIPv6(address)) return false;
  // node's BlockList already matches IPv4-mapped addresses (::ffff:a.b.c.d) against the IPv4 ranges.
  if (blocked.check(address, 'ipv6')) return true;
  const embedded = embeddedIPv4(address);
  return embedded !== undefined && blocked.check(embedded, 'ipv4');
}

/**
 * The IPv4 address inside a NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address, which a gateway would connect to on
 * our behalf: 64:ff9b::7f00:1 reaches 127.0.0.1.
 */
function embeddedIPv4(address: string): string | undefined {
  const groups = ipv6Groups(address);
  if (groups === undefined) return undefined;
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0))
    return dotted(groups[6]!, groups[7]!);
  if (groups[0] === 0x2002) return dotted(groups[1]!, groups[2]!);
  return undefined;
}

function dotted(high: number, low: number): string {
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/** The eight 16-bit groups of an IPv6 address that node's isIPv6 accepted. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.split('%')[0]!;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (isIPv4(tail)) {
    const [a, b, c, d] = tail.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (rest === undefined && missing !== 0)) return undefined;
  return [...left, ...new Array<number>(missing).fill(0), ...right];
}
