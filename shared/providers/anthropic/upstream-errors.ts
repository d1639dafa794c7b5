// Anthropic failures -> UpstreamError: the `error` event a stream can carry after its first
// byte (which the SDK throws as an APIError without a status), and everything else via the
// shared mapping.
import { ApiError, UpstreamError } from '../../errors';
import { localRequestError, toUpstreamError } from '../upstream-error';

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

/** The HTTP status each Anthropic error type stands for (its API documentation's table). */
const STATUS_OF_ERROR_TYPE: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/**
 * Classifies an `error` event by the HTTP status its type stands for, through the same mapping
 * as an error before the stream started (so overloaded_error is a retryable 529, and so on).
 */
export function anthropicErrorToUpstreamError(
  error: AnthropicErrorDetail,
  provider: string,
  cause?: unknown,
): UpstreamError {
  const status = STATUS_OF_ERROR_TYPE[error.type];
  if (status === undefined) {
    // A type newer than this code: a server-side failure mid-answer, worth another try.
    return new UpstreamError(`${provider} failed mid-stream: ${detail(error)}`, {
      retryable: true,
      errorClass: 'stream_error',
      cause,
    });
  }
  return toUpstreamError({ status, error: { error: { message: detail(error) } }, cause }, provider);
}

/**
 * Whatever the SDK call or the stream threw -> the error this provider reports. An abort wins
 * over the error it caused: the SDK ends an aborted stream silently, which would otherwise
 * read as a truncated answer.
 */
export function toAnthropicUpstreamError(err: unknown, provider: string, signal: AbortSignal): UpstreamError {
  if (signal.aborted) return toUpstreamError(signal.reason ?? err, provider, signal);
  // Our own request-translation errors (an unsupported image, ...) are the client's to see.
  if (err instanceof ApiError) return localRequestError(err, provider);
  const streamError = asStreamErrorEvent(err);
  if (streamError) return anthropicErrorToUpstreamError(streamError, provider, err);
  return toUpstreamError(err, provider, signal);
}
