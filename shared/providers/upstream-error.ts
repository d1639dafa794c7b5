// Turns whatever an SDK call threw into an UpstreamError that says whether retrying or failing
// over can help, and whether the upstream did it at all: what we throw while building or sending
// our own request is ours or the caller's, never the target's (issue 9, item 2).
// Both official SDKs (openai, @anthropic-ai/sdk) share the same error shape.

import { ApiError, UpstreamError } from '../errors';
import { isNetworkErrorCode } from '../http/network-errors';

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
    // The openai SDK's error classes keep the name "Error" (and bundles minify class names), so
    // its timeout is recognized by its message, as the SDK itself recognizes one.
    const timeout =
      e.name === 'APIConnectionTimeoutError' || (isSdkApiError(err) && /timed? ?out/i.test(e.message ?? ''));
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

/** errorClass of a request the caller's input kept us from building: a 400 naming the field. */
export const LOCAL_INVALID_REQUEST = 'local_invalid_request';
/** errorClass of our own failure to build or send a request (a bug, an odd value): a logged 500. */
export const LOCAL_INTERNAL_ERROR = 'local_internal_error';

/** Whether the error was raised by this server before the upstream answered anything. */
export function isLocalFailure(err: UpstreamError): boolean {
  return err.errorClass === LOCAL_INVALID_REQUEST || err.errorClass === LOCAL_INTERNAL_ERROR;
}

/**
 * An error raised while building or sending our request, before the upstream answered:
 * an ApiError under 500 is the caller's (kept with its code and param), anything else ours.
 */
export function localRequestError(err: unknown, provider: string): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (err instanceof ApiError && err.status < 500) {
    return new UpstreamError(err.message, {
      status: 400,
      errorClass: LOCAL_INVALID_REQUEST,
      code: err.code ?? 'invalid_request',
      param: err.param,
      cause: err,
    });
  }
  return new UpstreamError(`${provider}: the request could not be prepared`, {
    status: 500,
    errorClass: LOCAL_INTERNAL_ERROR,
    code: 'internal_error',
    cause: err,
  });
}

/**
 * An error object built by an official SDK about the upstream call: an HTTP error (with a
 * status), a connection error or timeout (the fetch itself failed), an abort, a stream error
 * event. Recognized by the fields its APIError constructor always sets, since the SDKs are
 * loaded lazily (no instanceof) and the openai SDK's errors all carry the name "Error". Their
 * base class (OpenAIError, AnthropicError: client-side checks before anything is sent) has none.
 */
function isSdkApiError(err: unknown): boolean {
  return err instanceof Error && 'status' in err && 'headers' in err;
}

/** Whether the error, or one of its causes, is a network failure talking to a server. */
export function isNetworkError(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e instanceof Error; depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && isNetworkErrorCode(code)) return true;
    if (e.message === 'socket hang up' || (e instanceof TypeError && e.message === 'fetch failed'))
      return true;
    e = e.cause;
  }
  return false;
}

/**
 * Classifies what building and sending our request threw, up to the upstream's response
 * headers: the upstream's doing (an abort, an SDK error about the call, a network failure)
 * goes through `upstreamErrorOf`; anything else (our transform, serialization of odd values,
 * an SDK's client-side check) never reached the upstream and is a local error.
 */
export function sendPhaseError(
  err: unknown,
  provider: string,
  signal: AbortSignal,
  upstreamErrorOf: (err: unknown, provider: string, signal: AbortSignal) => UpstreamError = toUpstreamError,
): UpstreamError {
  if (signal.aborted) return upstreamErrorOf(signal.reason ?? err, provider, signal);
  if (err instanceof UpstreamError) return err;
  if (isSdkApiError(err) || isNetworkError(err)) return upstreamErrorOf(err, provider, signal);
  return localRequestError(err, provider);
}

/** Runs a provider's build-and-send step; what it throws is classified by `sendPhaseError`. */
export async function sendUpstreamRequest<T>(
  provider: string,
  signal: AbortSignal,
  send: () => Promise<T>,
  upstreamErrorOf?: (err: unknown, provider: string, signal: AbortSignal) => UpstreamError,
): Promise<T> {
  try {
    return await send();
  } catch (err) {
    throw sendPhaseError(err, provider, signal, upstreamErrorOf);
  }
}

/**
 * Whether this error counts against a target's circuit breaker: only what the upstream did
 * (5xx, 529, timeouts, connection errors, broken streams), not the request (400s), the client
 * (aborts), rate limits, or this server's own failures before the upstream answered.
 */
export function countsAsFailure(err: UpstreamError): boolean {
  if (err.errorClass === 'aborted' || err.errorClass === 'http_4xx_request' || err.errorClass === 'http_429')
    return false;
  return !isLocalFailure(err);
}
