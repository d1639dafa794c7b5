// One warning per incident of a failing dependency instead of one per request: the first failure
// is logged at once, later ones within the interval are only counted and reported with the next
// line. Used by everything that survives a storage outage (breaker, limiters, budget, browser API).

/** Where throttled warnings go; composition roots pass the real logger. */
export type LogSink = (
  level: 'info' | 'warn' | 'error',
  message: string,
  fields?: Record<string, unknown>,
) => void;

export class ThrottledErrorLog {
  private lastLoggedAt = Number.NEGATIVE_INFINITY;
  private suppressed = 0;

  /**
   * `message` names the dependency and what callers do about it, e.g. "…, failing open"; `level`
   * is 'error' when callers fail because of it, 'warn' when they carry on without it.
   */
  constructor(
    private readonly log: LogSink,
    private readonly message: string,
    private readonly intervalMs: number,
    private readonly now: () => number,
    private readonly level: 'warn' | 'error' = 'warn',
  ) {}

  report(err: unknown, fields: Record<string, unknown>): void {
    const t = this.now();
    if (t - this.lastLoggedAt < this.intervalMs) {
      this.suppressed += 1;
      return;
    }
    this.log(this.level, this.message, {
      ...fields,
      error: describeError(err),
      suppressedSinceLastLog: this.suppressed,
    });
    this.lastLoggedAt = t;
    this.suppressed = 0;
  }
}

function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const withCode = typeof code === 'string' && !err.message.includes(code) ? ` (${code})` : '';
    return `${err.name}: ${err.message}${withCode}`.slice(0, 300);
  }
  return String(err).slice(0, 300);
}
