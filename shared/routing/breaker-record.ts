// The persisted state of one target's breaker, and what /health shows of it.
import type { BreakerState } from './breaker-types';

/**
 * The `STATE` item. Every write to it is a conditional write on `version`, so two processes
 * can never both act on the same old state.
 */
export interface BreakerRecord {
  /** `half_open` is stored only once a probe holds the lease; an expired `open` reads as half-open. */
  state: BreakerState;
  /** 0 while the item does not exist yet. */
  version: number;
  /**
   * Bumped each time a probe closes the breaker. Failures are counted per generation, so a
   * close resets the counters without deleting them, and late failures of calls admitted
   * before the reset do not count against the fresh state.
   */
  generation: number;
  /** Epoch ms when the open period ends and a probe may go; 0 when closed. */
  openUntil: number;
  /** The cooldown of the current (or last) open period; doubles with each failed probe. */
  cooldownMs: number;
  /** Epoch ms until which the current probe holds its lease; 0 when no probe runs. */
  probeLeaseUntil: number;
  /** Which probe holds the lease, so only its outcome may move the state on. */
  probeId?: string;
  lastErrorClass?: string;
  lastFailureAt?: number;
}

/** What the breaker remembers about an admission it handed out, to record its outcome. */
export interface AdmissionTicket {
  /** The counting generation the call was admitted in. */
  generation: number;
  /** For the probe: the record written when it took the lease (the state its outcome expects). */
  probeRecord?: BreakerRecord;
}

/** What the breaker knows about one target (the breaker part of its line in /health). */
export interface BreakerHealth {
  state: BreakerState;
  recentFailures: number;
  lastErrorClass?: string;
  lastFailureAt?: number;
  openUntil?: number;
  /** The control table could not be read; the other fields are defaults, not facts. */
  storeUnavailable?: true;
}

/** A breaker's state as `GET /health` shows it, for chat and image targets alike. */
export interface BreakerHealthView {
  state?: string;
  recentFailures?: number;
  lastErrorClass?: string;
  openUntil?: string;
  /** The breaker's state could not be read: `state` is a default, not a fact. */
  stateUnknown?: true;
}

export function breakerHealthView(s: BreakerHealth | undefined): BreakerHealthView {
  if (!s) return {};
  return {
    state: s.state,
    recentFailures: s.recentFailures,
    ...(s.lastErrorClass ? { lastErrorClass: s.lastErrorClass } : {}),
    ...(s.openUntil ? { openUntil: new Date(s.openUntil).toISOString() } : {}),
    ...(s.storeUnavailable ? { stateUnknown: true as const } : {}),
  };
}
