// Errors are values with a type; each maps to one HTTP status and one OpenAI-style error body here.

export type OpenAIErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'upstream_error'
  | 'timeout_error'
  | 'service_unavailable'
  | 'server_error';

export interface OpenAIErrorBody {
  error: { message: string; type: OpenAIErrorType; param: string | null; code: string | null };
}

/** A function's environment is not a valid configuration (the message names the variable). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export class ApiError extends Error {
  readonly status: number;
  readonly type: OpenAIErrorType;
  readonly code: string | null;
  readonly param: string | null;
  /** Seconds a client should wait before retrying (sent as `retry-after`). */
  readonly retryAfterSeconds: number | undefined;
  /**
   * Whoever raised it has logged it already (throttled, once per incident), so the HTTP error
   * boundary does not log it again per request.
   */
  readonly logged: boolean;

  constructor(
    status: number,
    type: OpenAIErrorType,
    message: string,
    opts: {
      code?: string | null;
      param?: string | null;
      retryAfterSeconds?: number;
      cause?: unknown;
      logged?: boolean;
    } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
    this.status = status;
    this.type = type;
    this.code = opts.code ?? null;
    this.param = opts.param ?? null;
    this.retryAfterSeconds = opts.retryAfterSeconds;
    this.logged = opts.logged ?? false;
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export class ValidationError extends ApiError {
  constructor(message: string, param: string | null = null, code = 'invalid_request') {
    super(400, 'invalid_request_error', message, { param, code });
  }
}

export class AuthError extends ApiError {
  constructor(message = 'Missing or invalid bearer token.', code = 'invalid_api_key') {
    super(401, 'authentication_error', message, { code });
  }
}

export class ForbiddenError extends ApiError {
  constructor(message: string, code = 'forbidden') {
    super(403, 'permission_error', message, { code });
  }
}

export class NotFoundError extends ApiError {
  constructor(message: string, code = 'not_found', param: string | null = null) {
    super(404, 'not_found_error', message, { code, param });
  }
}

export class PayloadTooLargeError extends ApiError {
  constructor(message: string, code = 'payload_too_large') {
    super(413, 'invalid_request_error', message, { code });
  }
}

/** The request body did not arrive within the host's body-read timeout. */
export class RequestTimeoutError extends ApiError {
  constructor(message: string, code = 'request_body_timeout') {
    super(408, 'invalid_request_error', message, { code });
  }
}

export class RateLimitError extends ApiError {
  constructor(message: string, retryAfterSeconds: number, code = 'rate_limit_exceeded') {
    super(429, 'rate_limit_error', message, { code, retryAfterSeconds });
  }
}

/** The upstream provider failed (502), is unavailable (503) or timed out (504). */
export class UpstreamError extends ApiError {
  /** Status the upstream answered with, when it answered at all. */
  readonly upstreamStatus: number | undefined;
  /** Whether trying again (same or other target) can help. */
  readonly retryable: boolean;
  /** Milliseconds the upstream asked us to wait (retry-after / retry-after-ms). */
  readonly retryAfterMs: number | undefined;
  /** Short class for logs and health: 'timeout', 'connection', 'http_5xx', 'http_429', ... */
  readonly errorClass: string;

  constructor(
    message: string,
    opts: {
      /** 400 and 500 only for failures of our own request building (see localRequestError). */
      status?: 400 | 429 | 500 | 502 | 503 | 504;
      upstreamStatus?: number;
      param?: string | null;
      retryable?: boolean;
      retryAfterMs?: number;
      errorClass: string;
      code?: string;
      cause?: unknown;
    },
  ) {
    const status = opts.status ?? 502;
    const type: OpenAIErrorType =
      status === 504
        ? 'timeout_error'
        : status === 429
          ? 'rate_limit_error'
          : status === 400
            ? 'invalid_request_error'
            : status === 503
              ? 'service_unavailable'
              : status === 500
                ? 'server_error'
                : 'upstream_error';
    super(status, type, message, {
      code: opts.code ?? 'upstream_error',
      param: opts.param ?? null,
      cause: opts.cause,
      ...(opts.retryAfterMs !== undefined && (status === 429 || status === 503)
        ? { retryAfterSeconds: Math.max(1, Math.ceil(opts.retryAfterMs / 1000)) }
        : {}),
    });
    this.upstreamStatus = opts.upstreamStatus;
    this.retryable = opts.retryable ?? false;
    this.retryAfterMs = opts.retryAfterMs;
    this.errorClass = opts.errorClass;
  }
}

/** Anything that is not an ApiError becomes a generic 500 with no internals in the message. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError(500, 'server_error', 'Internal server error.', { code: 'internal_error', cause: err });
}
