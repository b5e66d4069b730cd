/**
 * The in-memory quality loop runs linkage's defaults: a service setting it does not read is
 * refused, not ignored without a word (review, 12-07).
 */
import { refuseIgnoredSettings } from '../../../bench/quality/in-memory';

it('refuses the linkage settings it does not read, and only those', () => {
  expect(() => refuseIgnoredSettings({ LINKAGE_SEED: '7', RISK_THRESHOLD: '0.5' })).toThrow(
    /does not read RISK_THRESHOLD, LINKAGE_SEED; unset them/,
  );
  expect(() => refuseIgnoredSettings({ LINKAGE_WEIGHTS: '{}' })).toThrow(/pass --weights/);
  // blank is unset, as the service reads it; link ages it does read
  expect(() =>
    refuseIgnoredSettings({ LINKAGE_SEED: ' ', LINKAGE_LINK_MAX_AGE_DAYS: 'ip:3' }),
  ).not.toThrow();
});
