// What opening a turn's stream decides, as pure functions of what happened: which target to
// skip, how long an attempt may wait for its first byte, when to hedge, what to do after a
// failed attempt (retry, wait for a running hedge, fail over, give up), and the error a turn
// gets when no target answered. No I/O here; fallback.ts runs the attempts (as breaker.ts runs
// breaker-policy.ts).
import type { UpstreamError } from '../errors';
import { isLocalFailure, LOCAL_INTERNAL_ERROR } from '../providers/upstream-error';
import type { Admission } from './breaker-types';
import type { AttemptOutcome, FallbackSettings } from './fallback';
import type { Route, RouteTarget } from './routes';

/** Jittered exponential backoff; a server's retry-after wins when it asks for longer. */
export function backoffMs(
  retry: number,
  s: FallbackSettings,
  retryAfterMs: number | undefined,
  random: () => number,
): number {
  const exp = Math.min(s.backoffMaxMs, s.backoffBaseMs * 2 ** (retry - 1));
  const jittered = exp / 2 + random() * (exp / 2);
  return retryAfterMs !== undefined ? Math.max(retryAfterMs, jittered) : jittered;
}

/** The target's, else the route's, else the default first-byte timeout, within the turn budget. */
export function firstByteTimeoutMs(
  target: RouteTarget,
  route: Route,
  s: FallbackSettings,
  msLeft: number,
): number {
  return Math.max(
    1,
    Math.min(target.options.firstByteTimeoutMs ?? route.firstByteTimeoutMs ?? s.firstByteTimeoutMs, msLeft),
  );
}

/** Why a target is not tried at all: recorded as an attempt, named in the final error. */
export interface TargetSkip {
  outcome: Extract<AttemptOutcome, 'skipped_unconfigured' | 'skipped_open'>;
  detail: string;
}

/** Before asking the breaker: a provider that does not exist or has no key is skipped. */
export function skipUnusable(provider: { configured: boolean } | undefined): TargetSkip | undefined {
  if (provider?.configured) return undefined;
  return {
    outcome: 'skipped_unconfigured',
    detail: provider ? 'not configured (no API key, or disabled)' : 'unknown provider',
  };
}

/** After asking the breaker: a target it refuses is skipped until its retry time. */
export function skipRefused(admission: Admission): TargetSkip | undefined {
  if (admission.allowed) return undefined;
  const until = admission.retryAtMs ? ` until ${new Date(admission.retryAtMs).toISOString()}` : '';
  return { outcome: 'skipped_open', detail: `circuit ${admission.state}${until}` };
}

/**
 * When to start a hedge (a second target racing the first): `hedgeAfterMs` after the only
 * running attempt started, once per turn, and only while a target is left to race.
 */
export function hedgeDueAt(
  hedgeAfterMs: number | undefined,
  hedged: boolean,
  running: readonly { startedAt: number }[],
  targetsLeft: boolean,
): number | undefined {
  if (hedgeAfterMs === undefined || hedged || running.length !== 1 || !targetsLeft) return undefined;
  return running[0]!.startedAt + hedgeAfterMs;
}

/** An attempt that failed before its first event. */
export interface FailedAttempt {
  retryable: boolean;
  retryAfterMs?: number | undefined;
  /** Tries of this target so far beyond the first. */
  retry: number;
  /** The attempt was the breaker's half-open probe. */
  probe: boolean;
}

/** Where the turn stands when an attempt fails. */
export interface OpeningState {
  now: number;
  /** The end of the turn budget: no retry or failover starts past it. */
  deadline: number;
  /** The turn's signal aborted (client gone, deadline, superseded). */
  aborted: boolean;
  /** Attempts still running besides the failed one (a hedge, a retry in its backoff). */
  othersRunning: number;
  /** Targets of the route not tried yet. */
  targetsLeft: boolean;
}

export type NextStep =
  /** Try the same target again after `delayMs`. */
  | { kind: 'retry'; delayMs: number }
  /** Another attempt is still running: its result decides. */
  | { kind: 'wait' }
  /** Start the next target of the route. */
  | { kind: 'fail_over' }
  /** Nothing more to try: the turn fails with every target's story. */
  | { kind: 'give_up' }
  /** The turn was stopped: every running attempt is aborted with it. */
  | { kind: 'stop' };

export function afterFailure(
  failed: FailedAttempt,
  at: OpeningState,
  s: FallbackSettings,
  random: () => number,
): NextStep {
  if (at.aborted) return { kind: 'stop' };
  // A half-open probe is a single request: its failure has just re-opened the breaker, so
  // another try would be a second probe. Fail over instead.
  if (failed.retryable && !failed.probe && failed.retry < s.maxRetriesPerTarget) {
    const delayMs = backoffMs(failed.retry + 1, s, failed.retryAfterMs, random);
    if (at.now + delayMs < at.deadline) return { kind: 'retry', delayMs };
  }
  if (at.othersRunning > 0) return { kind: 'wait' };
  return at.targetsLeft && at.now < at.deadline ? { kind: 'fail_over' } : { kind: 'give_up' };
}

/** What an UpstreamError is made of. */
export type UpstreamErrorOptions = ConstructorParameters<typeof UpstreamError>[1];

/** One target's part in a failed turn: skipped (no error) or failed (its last error). */
export interface TargetFailure {
  target: string;
  detail: string;
  error?: UpstreamError;
}

/**
 * The error of a turn no target answered, in the caller's terms: every target unavailable is a
 * 503; our own request refused by every target is the caller's 400 (or our 500); all 400s stay
 * a 400, all 429s a 429 with the longest retry-after; otherwise 502, or 504 when all timed out.
 */
export function turnFailure(
  route: Route,
  failures: readonly TargetFailure[],
  budgetSpent: boolean,
): { message: string; opts: UpstreamErrorOptions } {
  const summary = failures.map((f) => `${f.target}: ${f.detail}`).join('; ');
  const errors = failures.map((f) => f.error).filter((e): e is UpstreamError => e !== undefined);
  const prefix = `No provider could answer model route "${route.name}"`;
  if (errors.length === 0) {
    return {
      message: `${prefix}: every target is unavailable (${summary || 'no targets'}).`,
      opts: { status: 503, errorClass: 'all_targets_unavailable', code: 'all_targets_unavailable' },
    };
  }
  const all = (pred: (e: UpstreamError) => boolean) =>
    errors.length === failures.length && errors.every(pred);
  // Nothing reached an upstream: the caller's request (its 400, field named) or our own failure.
  if (all(isLocalFailure)) {
    const ours = errors.find((e) => e.errorClass === LOCAL_INTERNAL_ERROR);
    const first = ours ?? errors[0]!;
    return {
      message: ours ? 'Internal server error while preparing the upstream request.' : first.message,
      opts: {
        status: ours ? 500 : 400,
        errorClass: first.errorClass,
        code: first.code ?? 'internal_error',
        param: ours ? null : first.param,
        cause: first.cause,
      },
    };
  }
  if (all((e) => e.status === 400)) {
    return {
      message: `${prefix}: ${summary}`,
      opts: { status: 400, errorClass: 'http_4xx_request', code: 'upstream_invalid_request' },
    };
  }
  if (all((e) => e.status === 429)) {
    const wait = Math.max(...errors.map((e) => e.retryAfterMs ?? 1000));
    return {
      message: `${prefix}: ${summary}`,
      opts: { status: 429, errorClass: 'http_429', code: 'upstream_rate_limited', retryAfterMs: wait },
    };
  }
  const timeouts = errors.every((e) => e.status === 504);
  return {
    message: `${prefix}${budgetSpent ? ' within the turn budget' : ''}: ${summary}`,
    opts: { status: timeouts ? 504 : 502, errorClass: 'all_targets_failed', code: 'all_targets_failed' },
  };
}
