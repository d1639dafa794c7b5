// middy middleware: whatever escapes the router (a configuration error at cold start, middy's
// early timeout, a bug) still answers an OpenAI-style JSON error, with no internals in it.
import type { MiddlewareObj } from '@middy/core';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { ApiError, toApiError } from '../../shared/errors';
import type { Logger } from '../../shared/observability/log';

function asApiError(err: unknown): ApiError {
  // middy aborts the handler just before the Lambda timeout with an error named TimeoutError.
  if ((err as { name?: unknown } | null)?.name === 'TimeoutError') {
    return new ApiError(504, 'timeout_error', 'The request took too long and was stopped.', {
      code: 'timeout',
      cause: err,
    });
  }
  return toApiError(err);
}

export function jsonErrors(opts: {
  log: Logger;
}): MiddlewareObj<LambdaFunctionURLEvent, LambdaFunctionURLResult> {
  return {
    onError: (request) => {
      const apiErr = asApiError(request.error);
      if (apiErr.status >= 500)
        opts.log.error('request failed', { error: request.error ?? undefined, status: apiErr.status });
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (apiErr.retryAfterSeconds !== undefined) headers['retry-after'] = String(apiErr.retryAfterSeconds);
      request.response = { statusCode: apiErr.status, headers, body: JSON.stringify(apiErr.toBody()) };
    },
  };
}
