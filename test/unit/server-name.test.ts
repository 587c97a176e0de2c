/** Server names (appendices, "Server Name"), with the spec's own examples. */
import { isIpLiteral, parseServerName, stripPort } from '../../src/core/server-name';

describe('parseServerName', () => {
  it.each([
    ['matrix.org', { hostname: 'matrix.org', address: 'matrix.org', port: undefined, kind: 'dns' }],
    ['matrix.org:8888', { hostname: 'matrix.org', address: 'matrix.org', port: 8888, kind: 'dns' }],
    ['1.2.3.4', { hostname: '1.2.3.4', address: '1.2.3.4', port: undefined, kind: 'ipv4' }],
    ['1.2.3.4:1234', { hostname: '1.2.3.4', address: '1.2.3.4', port: 1234, kind: 'ipv4' }],
    ['[1234:5678::abcd]', { hostname: '[1234:5678::abcd]', address: '1234:5678::abcd', port: undefined, kind: 'ipv6' }],
    ['[1234:5678::abcd]:5678', { hostname: '[1234:5678::abcd]', address: '1234:5678::abcd', port: 5678, kind: 'ipv6' }],
    ['[::ffff:1.2.3.4]', { hostname: '[::ffff:1.2.3.4]', address: '::ffff:1.2.3.4', port: undefined, kind: 'ipv6' }],
    ['localhost', { hostname: 'localhost', address: 'localhost', port: undefined, kind: 'dns' }],
    ['MATRIX.org', { hostname: 'MATRIX.org', address: 'MATRIX.org', port: undefined, kind: 'dns' }],
  ])('reads the valid %s', (text, expected) => {
    expect(parseServerName(text)).toEqual({ ok: true, serverName: expected });
  });

  it.each([
    '',
    'matrix.org:',
    'matrix.org:port',
    'matrix.org:65536',
    'matrix.org:123456',
    'matrix_org',
    'matrix.org/path',
    'user@matrix.org',
    '1.2.3.256',
    '1.2.3.0004',
    '[1234:5678::abcd',
    '[1234:5678::abcd]x',
    '[not:ipv6]',
    '[fe80::1%eth0]',
    '1234:5678::abcd',
    'a'.repeat(256),
  ])('rejects %s', (text) => {
    expect(parseServerName(text).ok).toBe(false);
  });

  // Synapse's grammar (VALID_HOST_REGEX): names a resolver reads as another host's, which could dodge a server ACL.
  it.each([
    ['evil.com.', '"evil.com." is not a DNS name: labels are joined by single dots, with none at either end'],
    ['evil.com.:8448', '"evil.com." is not a DNS name: labels are joined by single dots, with none at either end'],
    ['a..b', '"a..b" is not a DNS name: labels are joined by single dots, with none at either end'],
    ['.', '"." is not a DNS name: labels are joined by single dots, with none at either end'],
    ['.evil.com', '".evil.com" is not a DNS name: labels are joined by single dots, with none at either end'],
    ['1.2.3.4.', '"1.2.3.4." is not a DNS name: labels are joined by single dots, with none at either end'],
  ])('rejects %s, with a trailing dot or an empty label', (text, reason) => {
    expect(parseServerName(text)).toEqual({ ok: false, reason });
  });
});

describe('stripPort and isIpLiteral', () => {
  it('strip the port, keeping IPv6 brackets', () => {
    expect(stripPort('example.org:8448')).toBe('example.org');
    expect(stripPort('example.org')).toBe('example.org');
    expect(stripPort('[::1]:8448')).toBe('[::1]');
    expect(stripPort('[::1]')).toBe('[::1]');
  });

  it('recognise IPv4 and bracketed or bare IPv6 literals', () => {
    expect(isIpLiteral('1.2.3.4')).toBe(true);
    expect(isIpLiteral('[::1]')).toBe(true);
    expect(isIpLiteral('::1')).toBe(true);
    expect(isIpLiteral('example.org')).toBe(false);
    expect(isIpLiteral('1.2.3.4.example')).toBe(false);
  });
});
