import {
  closedAfterProbeRecord,
  countedBuckets,
  decideAdmission,
  INITIAL_RECORD,
  nextCooldownMs,
  openRecord,
  probeTakenRecord,
  reachesThreshold,
  reopenedAfterProbeRecord,
  visibleState,
} from '../../../shared/routing/breaker-policy';
import type { BreakerRecord } from '../../../shared/routing/breaker-record';
import { DEFAULT_BREAKER_SETTINGS, resolveBreakerSettings } from '../../../shared/routing/breaker-settings';

const s = DEFAULT_BREAKER_SETTINGS;
const T0 = 1_700_000_000_000;

test('a closed breaker allows', () => {
  expect(decideAdmission(INITIAL_RECORD, T0)).toEqual({ kind: 'allow' });
  expect(visibleState(INITIAL_RECORD, T0)).toBe('closed');
});

test('opening sets the base cooldown and bumps the version', () => {
  const open = openRecord(INITIAL_RECORD, T0, s, 'http_5xx');
  expect(open).toMatchObject({
    state: 'open',
    version: 1,
    generation: 0,
    openUntil: T0 + 30_000,
    cooldownMs: 30_000,
    probeLeaseUntil: 0,
    lastErrorClass: 'http_5xx',
    lastFailureAt: T0,
  });
});

test('an open breaker refuses until the cooldown ends, then asks for a probe', () => {
  const open = openRecord(INITIAL_RECORD, T0, s, 'timeout');
  expect(decideAdmission(open, T0 + 29_999)).toEqual({
    kind: 'reject',
    state: 'open',
    retryAtMs: T0 + 30_000,
  });
  expect(visibleState(open, T0 + 29_999)).toBe('open');
  expect(decideAdmission(open, T0 + 30_000)).toEqual({ kind: 'take_probe' });
  expect(visibleState(open, T0 + 30_000)).toBe('half_open');
});

test('while a probe holds its lease everyone else is refused; after the lease another probe may go', () => {
  const open = openRecord(INITIAL_RECORD, T0, s, 'timeout');
  const probing = probeTakenRecord(open, T0 + 30_000, s, 'p1');
  expect(probing).toMatchObject({
    state: 'half_open',
    version: 2,
    probeId: 'p1',
    probeLeaseUntil: T0 + 45_000,
  });
  expect(decideAdmission(probing, T0 + 44_999)).toEqual({
    kind: 'reject',
    state: 'half_open',
    retryAtMs: T0 + 45_000,
  });
  expect(decideAdmission(probing, T0 + 45_000)).toEqual({ kind: 'take_probe' });
});

test('a successful probe closes, resets the cooldown and starts a new counting generation', () => {
  const probing = probeTakenRecord(openRecord(INITIAL_RECORD, T0, s, 'timeout'), T0 + 30_000, s, 'p1');
  const closed = closedAfterProbeRecord(probing, s);
  expect(closed).toMatchObject({
    state: 'closed',
    version: 3,
    generation: 1,
    openUntil: 0,
    probeLeaseUntil: 0,
  });
  expect(closed.probeId).toBeUndefined();
  expect(closed.cooldownMs).toBe(30_000);
  expect(decideAdmission(closed, T0 + 30_001)).toEqual({ kind: 'allow' });
});

test('a failed probe re-opens with a doubled cooldown, capped', () => {
  let rec: BreakerRecord = openRecord(INITIAL_RECORD, T0, s, 'timeout');
  const cooldowns: number[] = [];
  let now = T0;
  for (let i = 0; i < 6; i++) {
    now = rec.openUntil;
    rec = reopenedAfterProbeRecord(probeTakenRecord(rec, now, s, `p${i}`), now + 1_000, s, 'http_5xx');
    cooldowns.push(rec.cooldownMs);
    expect(rec.openUntil).toBe(now + 1_000 + rec.cooldownMs);
    expect(rec.state).toBe('open');
    expect(rec.probeId).toBeUndefined();
  }
  expect(cooldowns).toEqual([60_000, 120_000, 240_000, 300_000, 300_000, 300_000]);
  expect(rec.generation).toBe(0);
});

test('nextCooldownMs grows from the base even when no cooldown was stored', () => {
  expect(nextCooldownMs(0, s)).toBe(60_000);
  expect(nextCooldownMs(200_000, s)).toBe(300_000);
});

test('only buckets that start inside the window count', () => {
  const minute = 60_000;
  const now = 100 * minute + 30_000;
  const { first, last } = countedBuckets(now, s);
  expect(last).toBe(100 * minute);
  expect(first).toBe(91 * minute);
  // Exactly on a boundary the bucket a whole window old no longer counts.
  expect(countedBuckets(100 * minute, s)).toEqual({ first: 91 * minute, last: 100 * minute });
});

test('the threshold is reached at exactly failureThreshold', () => {
  expect(reachesThreshold(4, s)).toBe(false);
  expect(reachesThreshold(5, s)).toBe(true);
});

test('settings are validated once', () => {
  expect(resolveBreakerSettings({ failureThreshold: 3 }).failureThreshold).toBe(3);
  expect(() => resolveBreakerSettings({ failureThreshold: 0 })).toThrow(/failureThreshold/);
  expect(() => resolveBreakerSettings({ windowMs: 10, bucketMs: 60_000 })).toThrow(/windowMs/);
  expect(() => resolveBreakerSettings({ maxCooldownMs: 1 })).toThrow(/maxCooldownMs/);
});
