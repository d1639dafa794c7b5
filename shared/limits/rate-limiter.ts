// Fixed-window request counters in the control table: one atomic ADD per call, so every
// container shares the same count without a read first. Fails open: a limiter outage must
// not take the product down with it.
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ThrottledErrorLog } from '../observability/throttled-error-log';
import { type ControlLog, controlTableUnavailable, withDeadline } from './control-table';

export interface RateLimitResult {
  allowed: boolean;
  /** Calls (cost units) left in this window after this one. */
  remaining: number;
  /** When refused: seconds until the window rolls over; 0 when allowed. */
  retryAfterSeconds: number;
}

export interface RateLimiterOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Epoch milliseconds; injectable for tests. */
  now?: () => number;
  log: ControlLog;
  /** Deadline of one counter update; past it the call is allowed. */
  timeoutMs?: number;
  errorLogIntervalMs?: number;
  /**
   * Where failures are reported instead of a log of the limiter's own: the browser API passes its
   * storage-incident log, so one DynamoDB outage is one line, not one per component.
   */
  errors?: ThrottledErrorLog;
  /**
   * What a call does when the table cannot be reached: 'allow' (the default: a limiter outage must
   * not take the product down) or 'deny', for allowances that guard money (image generation).
   */
  whenUnavailable?: 'allow' | 'deny';
}

/** Counters outlive their window by this much, so a late read never sees a vanished item. */
const TTL_SLACK_SECONDS = 60;

export const rateLimitKeys = {
  partition: (scope: string, key: string): string => `RATE#${scope}#${key}`,
  window: (windowStart: number): string => String(windowStart),
} as const;

export class RateLimiter {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly errors: ThrottledErrorLog;
  private readonly failClosed: boolean;

  constructor(opts: RateLimiterOptions) {
    this.failClosed = opts.whenUnavailable === 'deny';
    this.client = opts.client;
    this.tableName = opts.tableName;
    this.now = opts.now ?? Date.now;
    this.timeoutMs = opts.timeoutMs ?? 300;
    this.errors =
      opts.errors ??
      new ThrottledErrorLog(
        opts.log,
        this.failClosed
          ? 'rate limiter: control table unavailable, failing closed'
          : controlTableUnavailable('rate limiter'),
        opts.errorLogIntervalMs ?? 60_000,
        this.now,
      );
  }

  /**
   * Spends `cost` units of `key`'s allowance in `scope` (e.g. scope "chat", key a caller id).
   * Refused once the count after this call exceeds `limit` within the current window.
   */
  async consume(
    scope: string,
    key: string,
    limit: number,
    windowSeconds: number,
    cost = 1,
  ): Promise<RateLimitResult> {
    if (scope.includes('#')) throw new Error(`rate limit scope must not contain "#": ${scope}`);
    if (!(windowSeconds >= 1) || !(limit >= 0) || !(cost >= 0)) {
      throw new Error('rate limit needs windowSeconds >= 1, limit >= 0 and cost >= 0');
    }
    const nowSeconds = this.now() / 1000;
    const windowStart = Math.floor(nowSeconds / windowSeconds) * windowSeconds;
    const windowEnd = windowStart + windowSeconds;
    let count: number;
    try {
      const out = await withDeadline(this.timeoutMs, (abortSignal) =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: rateLimitKeys.partition(scope, key), sk: rateLimitKeys.window(windowStart) },
            UpdateExpression: 'ADD #count :cost SET #ttl = if_not_exists(#ttl, :ttl)',
            ExpressionAttributeNames: { '#count': 'count', '#ttl': 'ttl' },
            ExpressionAttributeValues: { ':cost': cost, ':ttl': windowEnd + TTL_SLACK_SECONDS },
            ReturnValues: 'UPDATED_NEW',
          }),
          { abortSignal },
        ),
      );
      const raw = out.Attributes?.count;
      count = typeof raw === 'number' ? raw : cost;
    } catch (err) {
      if (this.failClosed) {
        this.errors.report(err, { operation: `rate limit ${scope}`, outcome: 'refused (fails closed)' });
        return { allowed: false, remaining: 0, retryAfterSeconds: 5 };
      }
      this.errors.report(err, { operation: `rate limit ${scope}`, outcome: 'allowed (fails open)' });
      return { allowed: true, remaining: limit, retryAfterSeconds: 0 };
    }
    if (count > limit) {
      return {
        allowed: false,
        remaining: 0,
        retryAfterSeconds: Math.max(1, Math.ceil(windowEnd - nowSeconds)),
      };
    }
    return { allowed: true, remaining: limit - count, retryAfterSeconds: 0 };
  }
}
