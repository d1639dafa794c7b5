// The official SDKs log a few things themselves (e.g. a malformed SSE event before they throw).
// Routed into our structured logger so Lambda logs stay one JSON object per line; debug and
// info from the SDKs (which can include request details) are dropped.
import type { Logger } from '../observability/log';

type LogFn = (message: string, ...rest: unknown[]) => void;

export interface SdkLogger {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
}

export function sdkLogger(log: Logger, provider: string): SdkLogger {
  const to =
    (level: 'warn' | 'error'): LogFn =>
    (message) =>
      log[level](`${provider} SDK: ${String(message).slice(0, 300)}`, { provider });
  return { error: to('warn'), warn: to('warn'), info: () => {}, debug: () => {} };
}
