// Per-session spend counters (tokens and estimated USD) in the control table, so one runaway
// session cannot burn through the provider budget. Usage is added with one atomic ADD; a turn
// checks the totals before it calls a provider. Fails open when the table is unavailable.
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { RateLimitError } from '../errors';
import { ThrottledErrorLog } from '../observability/throttled-error-log';
import { type ControlLog, controlTableUnavailable, withDeadline } from './control-table';

export interface SessionUsage {
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
}

export interface BudgetLimits {
  /** Input plus output tokens over the session's life. */
  maxTokens?: number;
  maxCostUsd?: number;
}

export interface SessionBudgetOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Epoch milliseconds; injectable for tests. */
  now?: () => number;
  log: ControlLog;
  /** How long a session's counters live after its last turn (should outlast the session). */
  ttlSeconds?: number;
  timeoutMs?: number;
  errorLogIntervalMs?: number;
}

/** Cost is stored as integer nano-dollars: exact sums of many tiny per-turn amounts. */
const NANOS_PER_USD = 1_000_000_000;
const DEFAULT_TTL_SECONDS = 2 * 24 * 3600;

export const budgetKeys = {
  partition: (sessionId: string): string => `BUDGET#${sessionId}`,
  usage: 'USAGE',
} as const;

export class SessionBudget {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly now: () => number;
  private readonly ttlSeconds: number;
  private readonly timeoutMs: number;
  private readonly errors: ThrottledErrorLog;

  constructor(opts: SessionBudgetOptions) {
    this.client = opts.client;
    this.tableName = opts.tableName;
    this.now = opts.now ?? Date.now;
    this.ttlSeconds = opts.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    this.timeoutMs = opts.timeoutMs ?? 300;
    this.errors = new ThrottledErrorLog(
      opts.log,
      controlTableUnavailable('session budget'),
      opts.errorLogIntervalMs ?? 60_000,
      this.now,
    );
  }

  /** Adds one turn's usage (one atomic write); never throws. */
  async addUsage(sessionId: string, usage: SessionUsage): Promise<void> {
    const nowSeconds = Math.floor(this.now() / 1000);
    try {
      await withDeadline(this.timeoutMs, (abortSignal) =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: budgetKeys.partition(sessionId), sk: budgetKeys.usage },
            UpdateExpression: 'ADD #in :in, #out :out, #cost :cost SET #ttl = :ttl',
            ExpressionAttributeNames: {
              '#in': 'tokensIn',
              '#out': 'tokensOut',
              '#cost': 'costNanoUsd',
              '#ttl': 'ttl',
            },
            ExpressionAttributeValues: {
              ':in': wholeNonNegative(usage.tokensIn),
              ':out': wholeNonNegative(usage.tokensOut),
              ':cost': wholeNonNegative(usage.costUsd * NANOS_PER_USD),
              ':ttl': nowSeconds + this.ttlSeconds,
            },
          }),
          { abortSignal },
        ),
      );
    } catch (err) {
      this.errors.report(err, { operation: 'addUsage' });
    }
  }

  /** What the session has used so far; undefined when the table could not be read. */
  async usage(sessionId: string): Promise<(SessionUsage & { expiresAtSeconds?: number }) | undefined> {
    try {
      const out = await withDeadline(this.timeoutMs, (abortSignal) =>
        this.client.send(
          new GetCommand({
            TableName: this.tableName,
            Key: { pk: budgetKeys.partition(sessionId), sk: budgetKeys.usage },
            ConsistentRead: true,
          }),
          { abortSignal },
        ),
      );
      const item = out.Item ?? {};
      const used: SessionUsage & { expiresAtSeconds?: number } = {
        tokensIn: num(item.tokensIn),
        tokensOut: num(item.tokensOut),
        costUsd: num(item.costNanoUsd) / NANOS_PER_USD,
      };
      if (typeof item.ttl === 'number') used.expiresAtSeconds = item.ttl;
      return used;
    } catch (err) {
      this.errors.report(err, { operation: 'checkBudget' });
      return undefined;
    }
  }

  /**
   * Throws a 429 RateLimitError (code `session_budget_exceeded`) once the session has used
   * its allowance. No read when no limit is set.
   */
  async checkBudget(sessionId: string, limits: BudgetLimits): Promise<void> {
    if (limits.maxTokens === undefined && limits.maxCostUsd === undefined) return;
    const used = await this.usage(sessionId);
    if (!used) return;
    const tokens = used.tokensIn + used.tokensOut;
    const overTokens = limits.maxTokens !== undefined && tokens >= limits.maxTokens;
    const overCost = limits.maxCostUsd !== undefined && used.costUsd >= limits.maxCostUsd;
    if (!overTokens && !overCost) return;
    // The allowance lasts as long as the session's counters, so that is when trying again helps.
    const nowSeconds = Math.floor(this.now() / 1000);
    const retryAfterSeconds = Math.max(
      1,
      (used.expiresAtSeconds ?? nowSeconds + this.ttlSeconds) - nowSeconds,
    );
    const what = overTokens
      ? `${tokens} of ${limits.maxTokens} tokens`
      : `about $${used.costUsd.toFixed(4)} of $${limits.maxCostUsd}`;
    throw new RateLimitError(
      `This session has used its budget (${what}).`,
      retryAfterSeconds,
      'session_budget_exceeded',
    );
  }
}

function wholeNonNegative(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.round(n) : 0;
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}
