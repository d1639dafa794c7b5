// The breaker's state machine as pure functions of (record, now, settings): what to do with a
// call, and which record each transition writes. No I/O here; the store makes the writes
// conditional and the breaker wires the two together.

import type { BreakerRecord } from './breaker-record';
import type { BreakerSettings } from './breaker-settings';
import type { BreakerState } from './breaker-types';

/** The state of a target nobody has written yet. */
export const INITIAL_RECORD: Readonly<BreakerRecord> = Object.freeze({
  state: 'closed',
  version: 0,
  generation: 0,
  openUntil: 0,
  cooldownMs: 0,
  probeLeaseUntil: 0,
});

export type AdmissionDecision =
  | { kind: 'allow' }
  | { kind: 'reject'; state: Exclude<BreakerState, 'closed'>; retryAtMs: number }
  /** The cooldown (or a dead probe's lease) is over: try to take the probe lease. */
  | { kind: 'take_probe' };

export function decideAdmission(rec: BreakerRecord, now: number): AdmissionDecision {
  switch (rec.state) {
    case 'closed':
      return { kind: 'allow' };
    case 'open':
      return now < rec.openUntil
        ? { kind: 'reject', state: 'open', retryAtMs: rec.openUntil }
        : { kind: 'take_probe' };
    case 'half_open':
      return now < rec.probeLeaseUntil
        ? { kind: 'reject', state: 'half_open', retryAtMs: rec.probeLeaseUntil }
        : { kind: 'take_probe' };
    default:
      return assertNever(rec.state);
  }
}

/** The state a caller or /health should see: an open breaker past its cooldown is half-open. */
export function visibleState(rec: BreakerRecord, now: number): BreakerState {
  return rec.state === 'open' && now >= rec.openUntil ? 'half_open' : rec.state;
}

/** Failures in the window reached the threshold: open with the base cooldown. */
export function openRecord(
  rec: BreakerRecord,
  now: number,
  s: BreakerSettings,
  errorClass: string,
): BreakerRecord {
  return {
    state: 'open',
    version: rec.version + 1,
    generation: rec.generation,
    openUntil: now + s.openCooldownMs,
    cooldownMs: s.openCooldownMs,
    probeLeaseUntil: 0,
    lastErrorClass: errorClass,
    lastFailureAt: now,
  };
}

/** One caller takes the probe lease; everyone else keeps being refused until it reports. */
export function probeTakenRecord(
  rec: BreakerRecord,
  now: number,
  s: BreakerSettings,
  probeId: string,
): BreakerRecord {
  return {
    ...rec,
    state: 'half_open',
    version: rec.version + 1,
    probeLeaseUntil: now + s.probeLeaseMs,
    probeId,
  };
}

/** The probe succeeded: close, start a new counting generation, forget the grown cooldown. */
export function closedAfterProbeRecord(rec: BreakerRecord, s: BreakerSettings): BreakerRecord {
  const next: BreakerRecord = {
    state: 'closed',
    version: rec.version + 1,
    generation: rec.generation + 1,
    openUntil: 0,
    cooldownMs: s.openCooldownMs,
    probeLeaseUntil: 0,
  };
  if (rec.lastErrorClass !== undefined) next.lastErrorClass = rec.lastErrorClass;
  if (rec.lastFailureAt !== undefined) next.lastFailureAt = rec.lastFailureAt;
  return next;
}

/** The probe failed: open again, for longer than last time. */
export function reopenedAfterProbeRecord(
  rec: BreakerRecord,
  now: number,
  s: BreakerSettings,
  errorClass: string,
): BreakerRecord {
  const cooldownMs = nextCooldownMs(rec.cooldownMs, s);
  return {
    state: 'open',
    version: rec.version + 1,
    generation: rec.generation,
    openUntil: now + cooldownMs,
    cooldownMs,
    probeLeaseUntil: 0,
    lastErrorClass: errorClass,
    lastFailureAt: now,
  };
}

export function nextCooldownMs(currentMs: number, s: BreakerSettings): number {
  const base = Math.max(currentMs, s.openCooldownMs);
  return Math.min(Math.round(base * s.cooldownMultiplier), s.maxCooldownMs);
}

export function bucketStartOf(t: number, s: BreakerSettings): number {
  return Math.floor(t / s.bucketMs) * s.bucketMs;
}

/**
 * The buckets that count at `now`: those that start inside the window. A failure therefore
 * counts for between (window - bucket) and window, never longer, so failures spread over more
 * than the window can never add up to an opening.
 */
export function countedBuckets(now: number, s: BreakerSettings): { first: number; last: number } {
  return { first: bucketStartOf(now - s.windowMs, s) + s.bucketMs, last: bucketStartOf(now, s) };
}

export function reachesThreshold(failuresInWindow: number, s: BreakerSettings): boolean {
  return failuresInWindow >= s.failureThreshold;
}

function assertNever(x: never): never {
  throw new Error(`unexpected breaker state ${String(x)}`);
}
