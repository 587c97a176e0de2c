/**
 * Server ACL evaluation, following the order in the `m.room.server_acl` schema (IP literals, deny, allow, else
 * deny), its case-insensitive globs (appendices, "Glob-style matching") and Synapse's reading of malformed content.
 */
import { globMatches, serverAclAllows } from '../../src/core/server-acl';

describe('globMatches', () => {
  it.each([
    ['*', '', true],
    ['*', 'anything.example', true],
    ['evil.com', 'evil.com', true],
    ['evil.com', 'evil.co', false],
    ['evil.com', 'notevil.com', false],
    ['*.evil.com', 'sub.evil.com', true],
    ['*.evil.com', 'a.b.evil.com', true],
    ['*.evil.com', 'evil.com', false],
    ['ev?l.com', 'evil.com', true],
    ['ev?l.com', 'evl.com', false],
    ['ev?l.com', 'eviil.com', false],
    ['?', '', false],
    ['*?', 'a', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
    ['**', 'x', true],
    ['EVIL.com', 'evil.COM', true],
    // Regular expression characters are literal.
    ['evil.com', 'evilxcom', false],
    ['[a]', '[a]', true],
    ['(x)+', '(x)+', true],
  ])('%s against %s is %s', (glob, name, expected) => {
    expect(globMatches(glob, name)).toBe(expected);
  });

  it('answers for a pattern that would make a backtracking regular expression run for ages (jest times out otherwise)', () => {
    expect(globMatches(`${'*a'.repeat(200)}b`, 'a'.repeat(255))).toBe(false);
    expect(globMatches(`${'*a'.repeat(200)}`, 'a'.repeat(255))).toBe(true);
  });
});

describe('serverAclAllows', () => {
  const acl = { allow: ['*'], deny: ['evil.com', '*.evil.com', 'bad?.org'], allow_ip_literals: false };

  it('allows what matches allow and not deny', () => {
    expect(serverAclAllows(acl, 'good.org')).toBe(true);
  });

  it('denies what matches deny, even when allow matches too', () => {
    expect(serverAclAllows(acl, 'evil.com')).toBe(false);
    expect(serverAclAllows(acl, 'matrix.evil.com')).toBe(false);
    expect(serverAclAllows(acl, 'bad1.org')).toBe(false);
    expect(serverAclAllows({ allow: ['evil.com'], deny: ['evil.com'] }, 'evil.com')).toBe(false);
  });

  it('ignores the port of the server name', () => {
    expect(serverAclAllows(acl, 'evil.com:8448')).toBe(false);
    expect(serverAclAllows(acl, 'evil.com:1234')).toBe(false);
    expect(serverAclAllows({ allow: ['good.org'] }, 'good.org:8448')).toBe(true);
    // A rule with a port never matches: the name it is compared with has none.
    expect(serverAclAllows({ allow: ['good.org:8448'] }, 'good.org:8448')).toBe(false);
  });

  it('compares case-insensitively', () => {
    expect(serverAclAllows(acl, 'EVIL.com')).toBe(false);
    expect(serverAclAllows({ allow: ['Good.ORG'] }, 'good.org')).toBe(true);
  });

  it('denies IP literals when allow_ip_literals is false, with or without ports, before looking at allow', () => {
    expect(serverAclAllows(acl, '1.2.3.4')).toBe(false);
    expect(serverAclAllows(acl, '1.2.3.4:8448')).toBe(false);
    expect(serverAclAllows(acl, '[2001:db8::1]')).toBe(false);
    expect(serverAclAllows(acl, '[2001:db8::1]:8448')).toBe(false);
    expect(serverAclAllows({ allow: ['1.2.3.4'], allow_ip_literals: false }, '1.2.3.4')).toBe(false);
  });

  it('allows IP literals by default, matching IPv6 literals with their brackets and without their port', () => {
    expect(serverAclAllows({ allow: ['*'] }, '1.2.3.4:8448')).toBe(true);
    expect(serverAclAllows({ allow: ['*'], allow_ip_literals: true }, '[::1]:8448')).toBe(true);
    expect(serverAclAllows({ allow: ['[2001:db8::*]'] }, '[2001:db8::1]:8448')).toBe(true);
    expect(serverAclAllows({ allow: ['*'], deny: ['[2001:db8::1]'] }, '[2001:db8::1]:8448')).toBe(false);
    expect(serverAclAllows({ allow: ['*'], deny: ['1.2.3.*'] }, '1.2.3.4')).toBe(false);
  });

  it('does not take a DNS name that looks numeric for an IP literal', () => {
    expect(serverAclAllows({ allow: ['*'], allow_ip_literals: false }, '1.2.3.example')).toBe(true);
  });

  it('denies a name outside the server-name grammar, which could spell a denied host another way', () => {
    const denyEvil = { allow: ['*'], deny: ['evil.com', '1.2.3.4'] };
    for (const name of ['evil.com.', 'evil.com.:8448', 'evil..com', '1.2.3.4.', '1.2.3.4.:8448', '.', '', 'evil.com:port']) {
      expect([name, serverAclAllows(denyEvil, name)]).toEqual([name, false]);
    }
    expect(serverAclAllows(denyEvil, 'good.org')).toBe(true);
  });

  it('denies everyone when allow is missing or empty', () => {
    expect(serverAclAllows({}, 'good.org')).toBe(false);
    expect(serverAclAllows({ allow: [] }, 'good.org')).toBe(false);
    expect(serverAclAllows({ deny: ['evil.com'] }, 'good.org')).toBe(false);
  });

  describe('malformed content, read as Synapse reads it', () => {
    it('takes a non-array allow or deny as empty', () => {
      expect(serverAclAllows({ allow: '*' }, 'good.org')).toBe(false);
      expect(serverAclAllows({ allow: ['*'], deny: 'good.org' }, 'good.org')).toBe(true);
      expect(serverAclAllows({ allow: { 0: '*' } }, 'good.org')).toBe(false);
    });

    it('skips entries that are not strings', () => {
      expect(serverAclAllows({ allow: [1, null, { x: '*' }, ['*'], 'good.org'] }, 'good.org')).toBe(true);
      expect(serverAclAllows({ allow: ['*'], deny: [null, 42, true] }, 'good.org')).toBe(true);
    });

    it('takes a non-boolean allow_ip_literals as true', () => {
      expect(serverAclAllows({ allow: ['*'], allow_ip_literals: 'false' }, '1.2.3.4')).toBe(true);
      expect(serverAclAllows({ allow: ['*'], allow_ip_literals: 0 }, '1.2.3.4')).toBe(true);
    });

    it('takes content that is not an object as empty, which denies everyone', () => {
      expect(serverAclAllows(null, 'good.org')).toBe(false);
      expect(serverAclAllows('allow', 'good.org')).toBe(false);
      expect(serverAclAllows(['*'], 'good.org')).toBe(false);
    });
  });
});
