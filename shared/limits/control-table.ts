// Calls to the control table (breaker state, rate and budget counters) are advisory: a slow or
// failing DynamoDB must never delay a turn for long or fail it. This bounds every call and
// names the warning a failing table produces (shared/observability/throttled-error-log.ts throttles it).

import type { LogSink } from '../observability/throttled-error-log';

/** Where breaker and limiter events go; the composition root passes the real logger. */
export type ControlLog = LogSink;

/** The line a failing control table logs (throttled) for `component`, which then fails open. */
export function controlTableUnavailable(component: string): string {
  return `${component}: control table unavailable, failing open`;
}

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
