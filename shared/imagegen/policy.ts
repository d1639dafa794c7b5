// What the image runner does after a failed attempt, as a pure function of the failure and where
// the run stands: retry the same entry (after how long), go on to the next entry, or stop. The
// chat fallback (shared/routing/fallback.ts) decides inside its stream-racing loop, with
// hedging and first-byte timeouts that images do not have, so images get this small table.
import type { UpstreamError } from '../errors';
import { countsAsFailure } from '../providers/upstream-error';
import { DEFAULT_FALLBACK_SETTINGS } from '../routing/fallback';
import { backoffMs } from '../routing/fallback-policy';
import { ImageRefusedError } from './generation-errors';

export interface ImageRunSettings {
  /** One provider call, from request to image bytes (Replicate: create, poll and download). */
  attemptTimeoutMs: number;
  /** Extra tries of the same entry for retryable errors (429, 5xx, resets, timeouts). */
  maxRetriesPerEntry: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /**
   * Longest retry-after we wait for on one entry; an upstream asking for longer is failed over
   * at once (the user is waiting, another provider may draw now).
   */
  maxRetryAfterMs: number;
  /** The whole run, every entry and retry; no retry or next entry starts past it. */
  budgetMs: number;
}

/**
 * Generating takes 5 to 60 s: an attempt gets 60 s, and the run 120 s (the generation job's own
 * default timeout, IMAGE_JOB_TIMEOUT_MS), so a hung first provider still leaves room for a second.
 */
export const DEFAULT_IMAGE_RUN_SETTINGS: ImageRunSettings = {
  attemptTimeoutMs: 60_000,
  maxRetriesPerEntry: 1,
  backoffBaseMs: 500,
  backoffMaxMs: 4000,
  maxRetryAfterMs: 10_000,
  budgetMs: 120_000,
};

export type FailureDecision =
  | { kind: 'retry'; delayMs: number }
  | { kind: 'next' }
  /** A refusal (the user's answer) or the caller gave up: nothing more is tried. */
  | { kind: 'stop' };

export interface FailureContext {
  error: UpstreamError | ImageRefusedError;
  /** Retries already made on this entry. */
  retry: number;
  /** The attempt was the breaker's single half-open probe. */
  probe: boolean;
  /** The caller's signal is aborted (job cancelled, function deadline). */
  callerAborted: boolean;
  /** Milliseconds left of the run's budget. */
  msLeft: number;
  settings: ImageRunSettings;
  /** A number in [0, 1) for the backoff jitter. */
  random: number;
}

export function decideAfterFailure(c: FailureContext): FailureDecision {
  if (c.error instanceof ImageRefusedError || c.callerAborted) return { kind: 'stop' };
  // A half-open probe is a single request: its failure has just re-opened the breaker, so
  // another try would be a second probe.
  if (!c.error.retryable || c.probe || c.retry >= c.settings.maxRetriesPerEntry) return { kind: 'next' };
  const asked = c.error.retryAfterMs;
  if (asked !== undefined && asked > c.settings.maxRetryAfterMs) return { kind: 'next' };
  const delayMs = backoffMs(
    c.retry + 1,
    {
      ...DEFAULT_FALLBACK_SETTINGS,
      backoffBaseMs: c.settings.backoffBaseMs,
      backoffMaxMs: c.settings.backoffMaxMs,
    },
    asked,
    () => c.random,
  );
  return delayMs < c.msLeft ? { kind: 'retry', delayMs } : { kind: 'next' };
}

/**
 * Whether a failure counts against the entry's breaker: what the provider did (5xx, timeouts,
 * connection errors, malformed images), never a refusal, a 400 or 429, an abort or our own bug.
 */
export function countsAgainstBreaker(error: UpstreamError | ImageRefusedError): boolean {
  return !(error instanceof ImageRefusedError) && countsAsFailure(error);
}
