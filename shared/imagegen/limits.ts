// What one user may spend on images: a count per hour and dollars (at the estimate) per day, as
// atomic counters in the control table (shared/limits/rate-limiter.ts), charged when a generation
// is queued. These counters fail closed: an outage must not let a burst run up a bill.
import type { RateLimiter } from '../limits/rate-limiter';
import type { ImageGenConfig } from './config';
import { userDailyCostCap, userHourlyLimit } from './errors';

/** Dollars are counted as integer micro-dollars (the counters add whole numbers). */
const MICROS_PER_USD = 1_000_000;

export type ChargeGeneration = (requester: string, estimateUsd: number) => Promise<void>;

/** Throws a 429 (image_rate_limited / image_daily_budget_exceeded) when the requester is over either allowance. */
export function createGenerationCharger(
  limiter: RateLimiter,
  config: Pick<ImageGenConfig, 'perUserPerHour' | 'maxUsdPerUserPerDay'>,
): ChargeGeneration {
  return async (requester, estimateUsd) => {
    const hourly = await limiter.consume('image-gen-hour', requester, config.perUserPerHour, 3600);
    if (!hourly.allowed) throw userHourlyLimit(config.perUserPerHour, hourly.retryAfterSeconds);
    const daily = await limiter.consume(
      'image-usd-day',
      requester,
      Math.round(config.maxUsdPerUserPerDay * MICROS_PER_USD),
      86_400,
      Math.round(estimateUsd * MICROS_PER_USD),
    );
    if (!daily.allowed) throw userDailyCostCap(config.maxUsdPerUserPerDay, daily.retryAfterSeconds);
  };
}

/**
 * Whose allowance a generation spends, most specific first: the JWT subject that owns the
 * session, else the ElevenLabs user_id of the voice turn, else the caller's IP (browser), else
 * the session itself. `#` is kept out because the counters' keys use it as a separator.
 */
export function requesterKey(input: {
  ownerSub?: string;
  elevenLabsUser?: string;
  ip?: string;
  sessionId: string;
}): string {
  const clean = (v: string) => v.replace(/#/g, '_').slice(0, 200);
  if (input.ownerSub) return `sub:${clean(input.ownerSub)}`;
  if (input.elevenLabsUser) return `el:${clean(input.elevenLabsUser)}`;
  if (input.ip) return `ip:${clean(input.ip)}`;
  return `session:${input.sessionId}`;
}
