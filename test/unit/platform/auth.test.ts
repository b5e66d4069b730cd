import { hashKey, parseApiKeys } from '../../../src/platform/auth';
import { ConfigError } from '../../../src/platform/config';

describe('API_KEYS', () => {
  it('reads name:role:sha256 entries, blank meaning no keys (auth off)', () => {
    const keys = parseApiKeys(` ops:admin:${hashKey('a')} , scraper:metrics:${hashKey('b')} `);
    expect(keys.map((k) => [k.name, k.role])).toEqual([
      ['ops', 'admin'],
      ['scraper', 'metrics'],
    ]);
    expect(parseApiKeys('')).toEqual([]);
    expect(parseApiKeys('  ')).toEqual([]);
  });

  it('refuses one key under two entries: its role would be whichever came last (review, 12-05)', () => {
    const same = hashKey('shared');
    expect(() => parseApiKeys(`ops:admin:${same},scraper:metrics:${same.toUpperCase()}`)).toThrow(
      new ConfigError('API_KEYS entries "ops" and "scraper" hold the same key: one key, one role'),
    );
    // Two keys under one name (a rotation) are two keys.
    expect(parseApiKeys(`ops:admin:${hashKey('old')},ops:admin:${hashKey('new')}`)).toHaveLength(2);
  });

  it('refuses a list of only commas, which read as no keys turned auth off (review, 12-05)', () => {
    expect(() => parseApiKeys(' , ')).toThrow(ConfigError);
    expect(() => parseApiKeys(' , ')).toThrow(/no entries/);
  });
});
