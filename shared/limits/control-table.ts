// Calls to the control table (breaker state, rate and budget counters) are advisory: a slow or
// failing DynamoDB must never delay a turn for long or fail it. This bounds every call and
// rate-limits the warning a failing table produces.

/** Where breaker and limiter events go; the composition root passes the real logger. */
export type ControlLog = (
  level: 'info' | 'warn' | 'error',
  message: string,
  fields?: Record<string, unknown>,
) => void;

/** The control-table call did not answer within its deadline. */
export class ControlTableTimeoutError extends Error {
  constructor(ms: number) {
    super(`control table call timed out after ${ms} ms`);
    this.name = 'ControlTableTimeoutError';
  }
}

/**
 * Runs `call` with an abort signal that fires after `ms`, and gives up at `ms` even if the SDK
 * keeps waiting (its retry back-off sleeps do not watch the signal).
 */
export async function withDeadline<T>(ms: number, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new ControlTableTimeoutError(ms);
      controller.abort(err);
      reject(err);
    }, ms);
  });
  try {
    return await Promise.race([call(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** True when DynamoDB refused a write because its ConditionExpression did not hold. */
export function isConditionFailed(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}

/**
 * Logs a failing control table at most once per interval, with how many failures were
 * swallowed since, so an outage is visible without one log line per turn.
 */
export class ThrottledErrorLog {
  private lastLoggedAt = Number.NEGATIVE_INFINITY;
  private suppressed = 0;

  constructor(
    private readonly log: ControlLog,
    private readonly component: string,
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {}

  report(err: unknown, operation: string): void {
    const t = this.now();
    if (t - this.lastLoggedAt < this.intervalMs) {
      this.suppressed += 1;
      return;
    }
    this.log('warn', `${this.component}: control table unavailable, failing open`, {
      operation,
      error: describeError(err),
      suppressedSinceLastLog: this.suppressed,
    });
    this.lastLoggedAt = t;
    this.suppressed = 0;
  }
}

function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 300);
  return String(err).slice(0, 300);
}
