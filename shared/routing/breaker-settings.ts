// Tunables of the per-target circuit breaker, in one place. The composition root may override
// any of them (from configuration); resolveBreakerSettings rejects nonsense once, at start.

export interface BreakerSettings {
  /** Failures within the window that open the breaker. */
  failureThreshold: number;
  /** How far back failures count. */
  windowMs: number;
  /** Width of one failure-counter item; the window is summed from these buckets. */
  bucketMs: number;
  /** How long the breaker stays open the first time, before a probe is allowed. */
  openCooldownMs: number;
  /** Each failed probe multiplies the cooldown by this... */
  cooldownMultiplier: number;
  /** ...up to this ceiling. */
  maxCooldownMs: number;
  /** A probe holds its lease this long; if its process dies, another probe may go after it. */
  probeLeaseMs: number;
  /** How long a process trusts the state it last read before reading again. */
  cacheTtlMs: number;
  /** Deadline of one control-table call; past it the breaker fails open. */
  storeTimeoutMs: number;
  /** After a control-table error, how long this process skips the table and fails open. */
  storeBackoffMs: number;
  /** At most one "control table unavailable" warning per this interval. */
  errorLogIntervalMs: number;
}

export const DEFAULT_BREAKER_SETTINGS: Readonly<BreakerSettings> = Object.freeze({
  failureThreshold: 5,
  windowMs: 10 * 60_000,
  bucketMs: 60_000,
  openCooldownMs: 30_000,
  cooldownMultiplier: 2,
  maxCooldownMs: 5 * 60_000,
  probeLeaseMs: 15_000,
  cacheTtlMs: 1_000,
  storeTimeoutMs: 300,
  storeBackoffMs: 5_000,
  errorLogIntervalMs: 60_000,
});

export class BreakerSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BreakerSettingsError';
  }
}

/** Defaults overlaid with `overrides`, checked so a bad value fails at start, not mid-outage. */
export function resolveBreakerSettings(overrides: Partial<BreakerSettings> = {}): BreakerSettings {
  const s: BreakerSettings = { ...DEFAULT_BREAKER_SETTINGS };
  for (const [key, value] of Object.entries(overrides) as [keyof BreakerSettings, number | undefined][]) {
    if (value !== undefined) s[key] = value;
  }
  for (const [key, value] of Object.entries(s)) {
    if (!Number.isFinite(value) || value < 0) throw new BreakerSettingsError(`${key} must be a number >= 0`);
  }
  if (!Number.isInteger(s.failureThreshold) || s.failureThreshold < 1) {
    throw new BreakerSettingsError('failureThreshold must be an integer >= 1');
  }
  if (s.bucketMs < 1 || s.windowMs < s.bucketMs) {
    throw new BreakerSettingsError('bucketMs must be >= 1 and windowMs >= bucketMs');
  }
  if (s.cooldownMultiplier < 1) throw new BreakerSettingsError('cooldownMultiplier must be >= 1');
  if (s.maxCooldownMs < s.openCooldownMs)
    throw new BreakerSettingsError('maxCooldownMs must be >= openCooldownMs');
  if (s.storeTimeoutMs < 1) throw new BreakerSettingsError('storeTimeoutMs must be >= 1');
  return s;
}
