import {
  allowlistDigest,
  normaliseValue,
  parseConfigAllowlist,
} from '../../../src/linkage/allowlist';

describe('allow-list values: the form ingest stores', () => {
  it('lists e-mail domains ingest accepts, lower-cased as ingest stores them', () => {
    // Found by review on 12-02: these were refused ("must be a domain name") though
    // ingest stores them and runs link accounts on them.
    expect(normaliseValue('email_domain', 'under_score.example')).toBe('under_score.example');
    expect(normaliseValue('email_domain', 'München.DE')).toBe('münchen.de');
    expect(normaliseValue('email_domain', 'x'.repeat(254))).toEqual({
      error: 'must be 1-253 characters',
    });
    // Ingest stores ' Gmail.com.' as gmail.com, so the allow-list entry must read the same.
    expect(normaliseValue('email_domain', ' Gmail.com.')).toBe('gmail.com');
    expect(normaliseValue('email_domain', 'ｇｍａｉｌ.com')).toBe('gmail.com');
    for (const refused of ['.', 'jane@example.com'])
      expect(normaliseValue('email_domain', refused)).toEqual({
        error: 'must be a domain, e.g. example.com: no "@" or spaces, not only dots',
      });
  });

  it('takes opaque values exactly as sent, spaces included', () => {
    expect(normaliseValue('payment', ' pm_1')).toBe(' pm_1');
    expect(normaliseValue('device', 'dev 7 ')).toBe('dev 7 ');
    expect(normaliseValue('org', 'Acme Inc')).toBe('Acme Inc');
    expect(normaliseValue('payment', '')).toEqual({ error: 'must be 1-256 characters' });
  });

  it('parses addresses, subnets and fingerprints, spaces around them dropped', () => {
    expect(normaliseValue('ip', ' 10.0.0.1 ')).toBe('10.0.0.1');
    expect(normaliseValue('subnet', '10.1.2.0/24')).toBe('10.1.2.0/24');
    // a wider block, host bits cleared; nothing narrower than the /24 a run links on
    expect(normaliseValue('subnet', '10.1.17.5/20')).toBe('10.1.16.0/20');
    expect(normaliseValue('subnet', '2001:DB8::/32')).toBe('2001:db8::/32');
    expect(normaliseValue('subnet', '10.1.2.0/25')).toHaveProperty('error');
    expect(normaliseValue('prompt', ' 00000000000000ff')).toBe('00000000000000ff');
    expect(normaliseValue('ip', 'not an ip')).toHaveProperty('error');
  });

  it('refuses an IPv4-mapped subnet, naming the IPv4 /24 to give instead', () => {
    const error = {
      error:
        'must be given as its IPv4 /24, 10.1.2.0/24: an IPv4-mapped IPv6 address is stored as IPv4',
    };
    expect(normaliseValue('subnet', '::ffff:10.1.2.7/48')).toEqual(error);
    expect(normaliseValue('subnet', '::ffff:10.1.2.7/24')).toEqual(error);
    expect(normaliseValue('subnet', '10.1.2.7/48')).toEqual({
      error:
        'must be an IPv4 /8 to /24 or an IPv6 /16 to /48 in CIDR form (e.g. 10.1.2.0/24, 10.1.16.0/20)',
    });
    // a mapped block is named by the IPv4 block it is, a /24 at most
    expect(normaliseValue('subnet', '::ffff:10.1.0.0/112')).toEqual({
      error:
        'must be given as its IPv4 block, 10.1.0.0/16: an IPv4-mapped IPv6 address is stored as IPv4',
    });
    expect(normaliseValue('subnet', '::ffff:10.1.2.7/120')).toEqual({
      error:
        'must be given as its IPv4 block, 10.1.2.0/24: an IPv4-mapped IPv6 address is stored as IPv4',
    });
    // narrower than a /24 is an address or its /24, wider than a /8 no block listed at all
    expect(normaliseValue('subnet', '::ffff:10.1.2.7/128')).toEqual({
      error:
        'is narrower than an IPv4 /24: list the address as kind ip, 10.1.2.7, or its /24, 10.1.2.0/24 (an IPv4-mapped IPv6 address is stored as IPv4)',
    });
    expect(normaliseValue('subnet', '::ffff:10.1.2.7/100')).toEqual({
      error:
        'is wider than an IPv4 /8, the widest block listed: an IPv4-mapped IPv6 address is stored as IPv4',
    });
    // a prefix that is no number gets the general message, not a block it never named
    expect(normaliseValue('subnet', '::ffff:10.1.2.7/x')).toEqual({
      error:
        'must be an IPv4 /8 to /24 or an IPv6 /16 to /48 in CIDR form (e.g. 10.1.2.0/24, 10.1.16.0/20)',
    });
    expect(() => parseConfigAllowlist('subnet:::ffff:10.1.2.7/48')).toThrow(
      'LINKAGE_ALLOWLIST entry "subnet:::ffff:10.1.2.7/48": value must be given as its IPv4 /24, 10.1.2.0/24',
    );
  });

  it('LINKAGE_ALLOWLIST: a comma inside a value is named as the cause', () => {
    expect(() => parseConfigAllowlist('payment:pm,1')).toThrow(
      'LINKAGE_ALLOWLIST entry "1" must be kind:value with kind one of payment, device, ip, subnet, email_domain, prompt, org (entries are separated by commas, so a value holding one cannot be listed here: POST it to /v1/allowlist)',
    );
  });

  it('LINKAGE_ALLOWLIST: spaces around an entry and its colon are layout', () => {
    const entries = parseConfigAllowlist(' payment: pm_1 , email_domain:Under_Score.example');
    expect(entries.map((e) => [e.kind, e.value])).toEqual([
      ['payment', 'pm_1'],
      ['email_domain', 'under_score.example'],
    ]);
  });
});

describe('allowlistDigest', () => {
  it('tells lists apart whatever order their entries were read in', () => {
    const a = { kind: 'ip' as const, value: '10.0.0.1' };
    const b = { kind: 'subnet' as const, value: '10.1.0.0/24' };
    expect(allowlistDigest([a, b])).toEqual(allowlistDigest([b, a]));
    expect(allowlistDigest([a, b]).entries).toBe(2);
    expect(allowlistDigest([a]).sha256).not.toBe(allowlistDigest([a, b]).sha256);
    expect(allowlistDigest([]).sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
