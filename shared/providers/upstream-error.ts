// Turns whatever an SDK call threw into an UpstreamError that says whether retrying or failing
// over can help. Both official SDKs (openai, @anthropic-ai/sdk) share the same error shape.
import { UpstreamError } from '../errors';

interface SdkErrorLike {
  name?: string;
  status?: number;
  headers?: { get(name: string): string | null } | Record<string, string>;
  message?: string;
  error?: unknown;
}

function header(err: SdkErrorLike, name: string): string | undefined {
  const h = err.headers;
  if (!h) return undefined;
  if (typeof (h as { get?: unknown }).get === 'function') {
    return (h as { get(name: string): string | null }).get(name) ?? undefined;
  }
  return (h as Record<string, string>)[name];
}

/** Milliseconds from `retry-after-ms`, else `retry-after` (seconds or an HTTP date). */
export function parseRetryAfter(
  get: (name: string) => string | undefined,
  now = Date.now(),
): number | undefined {
  const ms = get('retry-after-ms');
  if (ms !== undefined && ms !== '') {
    const n = Number(ms);
    if (Number.isFinite(n) && n >= 0) return n;
  }
  const ra = get('retry-after');
  if (ra === undefined || ra === '') return undefined;
  const seconds = Number(ra);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Status codes worth retrying on the same target (protocol.md section 5). */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 409, 429, 500, 502, 503, 504, 529]);

/** A short, secret-free description of an upstream error body. */
function upstreamMessage(err: SdkErrorLike): string {
  const body = err.error as { message?: unknown; error?: { message?: unknown } } | undefined;
  const msg = body?.error?.message ?? body?.message ?? err.message ?? '';
  return String(msg).replace(/\s+/g, ' ').slice(0, 300);
}

export function toUpstreamError(err: unknown, provider: string, signal?: AbortSignal): UpstreamError {
  if (err instanceof UpstreamError) return err;
  // A timeout or hedge aborts the SDK call with an UpstreamError as the reason: that is the truth.
  if (signal?.aborted && signal.reason instanceof UpstreamError) return signal.reason;
  const e = (err ?? {}) as SdkErrorLike;
  const status = typeof e.status === 'number' ? e.status : undefined;
  if (status === undefined) {
    if (e.name === 'APIUserAbortError' || e.name === 'AbortError' || signal?.aborted) {
      return new UpstreamError(`${provider}: request aborted`, { errorClass: 'aborted', cause: err });
    }
    const timeout = e.name === 'APIConnectionTimeoutError';
    return new UpstreamError(`${provider}: ${timeout ? 'request timed out' : 'connection failed'}`, {
      status: timeout ? 504 : 502,
      errorClass: timeout ? 'timeout' : 'connection',
      retryable: true,
      code: timeout ? 'upstream_timeout' : 'upstream_connection_error',
      cause: err,
    });
  }
  const retryAfterMs = parseRetryAfter((n) => header(e, n));
  const detail = upstreamMessage(e);
  if (status === 429) {
    return new UpstreamError(`${provider} is rate limiting requests: ${detail}`, {
      status: 429,
      upstreamStatus: status,
      retryable: true,
      retryAfterMs,
      errorClass: 'http_429',
      code: 'upstream_rate_limited',
      cause: err,
    });
  }
  if (status === 400 || status === 413 || status === 422) {
    // The request itself was refused: another try of the same request will not help.
    return new UpstreamError(`${provider} rejected the request: ${detail}`, {
      status: 400,
      upstreamStatus: status,
      errorClass: 'http_4xx_request',
      code: 'upstream_invalid_request',
      cause: err,
    });
  }
  const retryable = RETRYABLE_STATUSES.has(status);
  return new UpstreamError(`${provider} failed with HTTP ${status}: ${detail}`, {
    status: 502,
    upstreamStatus: status,
    retryable,
    retryAfterMs,
    errorClass: status >= 500 ? (status === 529 ? 'overloaded' : 'http_5xx') : `http_${status}`,
    code: status === 401 || status === 403 ? 'upstream_auth_failed' : 'upstream_error',
    cause: err,
  });
}

/**
 * Whether this error counts against a target's circuit breaker: the provider is unhealthy
 * (5xx, 529, timeouts, connection errors), not the request (400s) or the client (aborts).
 */
export function countsAsFailure(err: UpstreamError): boolean {
  if (err.errorClass === 'aborted' || err.errorClass === 'http_4xx_request' || err.errorClass === 'http_429')
    return false;
  return true;
}
