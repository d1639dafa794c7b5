// What both official SDK clients are built with, and where their own log lines go.
// The official SDKs log a few things themselves (e.g. a malformed SSE event before they throw).
// Routed into our structured logger so Lambda logs stay one JSON object per line; debug and
// info from the SDKs (which can include request details) are dropped.
import { type Logger, silentLogger } from '../observability/log';
import type { FetchLike } from './http-transport';

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

/** What both SDK-backed providers are built with. */
export interface SdkProviderOptions {
  /** Upper bound on one upstream request. */
  timeoutMs: number;
  /** Where the SDK's own log lines go (structured, warn and above). */
  log?: Logger;
  /** The SDK's HTTP transport (see http-transport.ts); the runtime's fetch when absent. */
  fetch?: FetchLike;
}

/**
 * Client options both official SDKs share: retries and failover belong to the routing layer,
 * so the SDK never retries on its own; its log lines go to our logger.
 */
export function sdkClientOptions(provider: string, opts: SdkProviderOptions) {
  return {
    maxRetries: 0,
    timeout: opts.timeoutMs,
    logger: sdkLogger(opts.log ?? silentLogger, provider),
    logLevel: 'warn' as const,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  };
}
