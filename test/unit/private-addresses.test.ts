/** The addresses a key fetch may not reach (src/federation/private-addresses.ts). */
import { isPrivateAddress } from '../../src/federation/private-addresses';

describe('isPrivateAddress', () => {
  it('refuses private, loopback, link-local and other special-purpose addresses, and allows public ones', () => {
    const refused = ['10.1.2.3', '127.0.0.1', '169.254.1.1', '172.16.0.1', '192.168.1.1', '100.64.0.1', '0.0.0.0', '224.0.0.1', '::', '::1', 'fe80::1', 'fc00::1', 'ff02::1', '2001:db8::1'];
    const allowed = ['8.8.8.8', '1.1.1.1', '2001:4860:4860::8888', '2a00:1450:4001::1'];
    expect(refused.filter((address) => !isPrivateAddress(address))).toEqual([]);
    expect(allowed.filter((address) => isPrivateAddress(address))).toEqual([]);
  });

  it('refuses IPv4 in an IPv6 disguise: mapped, NAT64 and 6to4 by the IPv4 address inside', () => {
    expect(['::ffff:127.0.0.1', '::ffff:7f00:1', '64:ff9b::a00:1', '64:ff9b::10.0.0.1', '2002:7f00:1::1'].map(isPrivateAddress)).toEqual([true, true, true, true, true]);
    expect(['::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'].map(isPrivateAddress)).toEqual([false, false, false]);
  });

  it('refuses the whole of local-use NAT64, IPv4-compatible and IPv4-translated addresses (issue 19, item 12)', () => {
    // 64:ff9b:1::/48 (RFC 8215), ::/96 (IPv4-compatible, RFC 4291), ::ffff:0:0:0/96 (IPv4-translated, RFC 2765),
    // whatever the address inside: their gateways are the operator's own.
    const addresses = ['64:ff9b:1::1', '64:ff9b:1::808:808', '64:ff9b:1:ffff:ffff:ffff:ffff:ffff', '::7f00:1', '::127.0.0.1', '::8.8.8.8', '::ffff:0:7f00:1', '::ffff:0:808:808', '::ffff:0:8.8.8.8'];
    expect(addresses.filter((address) => !isPrivateAddress(address))).toEqual([]);
    // Just outside them.
    expect(['64:ff9b:2::808:808', '1::808:808', '::1:ffff:0:808:808'].map(isPrivateAddress)).toEqual([false, false, false]);
  });
});
