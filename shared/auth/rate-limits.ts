// Spends a caller's per-minute allowance for an action: per IP in anonymous mode, per user with
// JWTs (so users behind one NAT do not starve each other). 429 with retry-after once exhausted.
import { RateLimitError } from '../errors';
import type { RateLimiter } from '../limits/rate-limiter';
import type { BrowserRateLimits, Caller, RateLimitedAction } from './types';

const WINDOW_SECONDS = 60;

const SCOPES: Record<
  RateLimitedAction,
  { scope: string; limit: (l: BrowserRateLimits) => number; what: string }
> = {
  create_session: { scope: 'browser-sessions', limit: (l) => l.sessionsPerMinute, what: 'sessions created' },
  create_image: { scope: 'browser-images', limit: (l) => l.uploadsPerMinute, what: 'images added' },
  session_call: { scope: 'browser-calls', limit: (l) => l.requestsPerMinute, what: 'requests' },
};

function callerKey(caller: Caller): string {
  return caller.kind === 'user' ? `sub:${caller.sub}` : `ip:${caller.ip}`;
}

export type EnforceRateLimit = (caller: Caller, action: RateLimitedAction) => Promise<void>;

export function createRateLimitEnforcer(limiter: RateLimiter, limits: BrowserRateLimits): EnforceRateLimit {
  return async (caller, action) => {
    const { scope, limit, what } = SCOPES[action];
    const max = limit(limits);
    const result = await limiter.consume(scope, callerKey(caller), max, WINDOW_SECONDS);
    if (!result.allowed) {
      throw new RateLimitError(
        `Too many ${what}: at most ${max} per minute. Retry in ${result.retryAfterSeconds} s.`,
        result.retryAfterSeconds,
      );
    }
  };
}

/** Per-session allowances, spent after the caller proved it holds the session. */
export type EnforceSessionRateLimit = (sessionId: string, action: RateLimitedAction) => Promise<void>;

export const DEFAULT_UPLOADS_PER_SESSION_PER_MINUTE = 30;

export function createSessionRateLimitEnforcer(
  limiter: RateLimiter,
  limits: BrowserRateLimits,
): EnforceSessionRateLimit {
  return async (sessionId, action) => {
    if (action !== 'create_image') return;
    const max = limits.uploadsPerSessionPerMinute ?? DEFAULT_UPLOADS_PER_SESSION_PER_MINUTE;
    const result = await limiter.consume('session-images', sessionId, max, WINDOW_SECONDS);
    if (!result.allowed) {
      throw new RateLimitError(
        `Too many images added to this session: at most ${max} per minute. Retry in ${result.retryAfterSeconds} s.`,
        result.retryAfterSeconds,
      );
    }
  };
}
