// Anthropic failures -> UpstreamError: the `error` event a stream can carry after its first
// byte (which the SDK throws as an APIError without a status), and everything else via the
// shared mapping.
import { ApiError, UpstreamError } from '../../errors';
import { toUpstreamError } from '../upstream-error';

/** The body of an Anthropic `error` event (and of its HTTP error responses). */
export interface AnthropicErrorDetail {
  type: string;
  message?: string;
}

function detail(error: AnthropicErrorDetail): string {
  return (error.message ?? error.type).replace(/\s+/g, ' ').slice(0, 300);
}

/**
 * The SDK throws an `error` event as its APIError with no HTTP status but a `type`. Checked by
 * shape rather than `instanceof`, so this module does not load the SDK at cold start (the SDK is
 * imported lazily, only by a configuration that routes to Anthropic).
 */
function asStreamErrorEvent(err: unknown): AnthropicErrorDetail | undefined {
  if (!(err instanceof Error)) return undefined;
  const e = err as Error & { status?: unknown; type?: unknown; apiMessage?: unknown };
  if (e.status !== undefined || typeof e.type !== 'string' || !('apiMessage' in e)) return undefined;
  return { type: e.type, ...(typeof e.apiMessage === 'string' ? { message: e.apiMessage } : {}) };
}

/**
 * Classifies an `error` event by its error type, the way toUpstreamError classifies the HTTP
 * status the same error would have had before the stream started (overloaded_error = 529).
 */
export function anthropicErrorToUpstreamError(
  error: AnthropicErrorDetail,
  provider: string,
  cause?: unknown,
): UpstreamError {
  const msg = detail(error);
  switch (error.type) {
    case 'overloaded_error':
      return new UpstreamError(`${provider} is overloaded: ${msg}`, {
        upstreamStatus: 529,
        retryable: true,
        errorClass: 'overloaded',
        cause,
      });
    case 'rate_limit_error':
      return new UpstreamError(`${provider} is rate limiting requests: ${msg}`, {
        status: 429,
        upstreamStatus: 429,
        retryable: true,
        errorClass: 'http_429',
        code: 'upstream_rate_limited',
        cause,
      });
    case 'timeout_error':
      return new UpstreamError(`${provider} timed out: ${msg}`, {
        status: 504,
        upstreamStatus: 504,
        retryable: true,
        errorClass: 'timeout',
        code: 'upstream_timeout',
        cause,
      });
    case 'invalid_request_error':
      return new UpstreamError(`${provider} rejected the request: ${msg}`, {
        status: 400,
        upstreamStatus: 400,
        errorClass: 'http_4xx_request',
        code: 'upstream_invalid_request',
        cause,
      });
    case 'authentication_error':
    case 'permission_error':
    case 'billing_error':
      return new UpstreamError(`${provider} refused our credentials: ${msg}`, {
        upstreamStatus: error.type === 'authentication_error' ? 401 : 403,
        errorClass: error.type === 'authentication_error' ? 'http_401' : 'http_403',
        code: 'upstream_auth_failed',
        cause,
      });
    default:
      // api_error and anything newer: a server-side failure mid-answer, worth another try.
      return new UpstreamError(`${provider} failed mid-stream: ${msg}`, {
        upstreamStatus: error.type === 'api_error' ? 500 : undefined,
        retryable: true,
        errorClass: error.type === 'api_error' ? 'http_5xx' : 'stream_error',
        cause,
      });
  }
}

/**
 * Whatever the SDK call or the stream threw -> the error this provider reports. An abort wins
 * over the error it caused: the SDK ends an aborted stream silently, which would otherwise
 * read as a truncated answer.
 */
export function toAnthropicUpstreamError(err: unknown, provider: string, signal: AbortSignal): ApiError {
  if (signal.aborted) return toUpstreamError(signal.reason ?? err, provider, signal);
  // Our own request-translation errors (an unsupported image, ...) are the client's to see.
  if (err instanceof ApiError) return err;
  const streamError = asStreamErrorEvent(err);
  if (streamError) return anthropicErrorToUpstreamError(streamError, provider, err);
  return toUpstreamError(err, provider, signal);
}
