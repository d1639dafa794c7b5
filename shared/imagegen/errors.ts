// The refusals of image generation, each with one status and one stable code; the browser API
// answers them as JSON errors, the chat tool turns them into a result the model can speak.
import { ApiError, NotFoundError, RateLimitError, ValidationError } from '../errors';

export function generationDisabled(): ApiError {
  return new ApiError(403, 'permission_error', 'Image generation is not enabled on this server.', {
    code: 'image_generation_disabled',
  });
}

export function generationNotFound(): NotFoundError {
  return new NotFoundError(
    'This session has no image generation with this id.',
    'generation_not_found',
    'generation_id',
  );
}

export function invalidGenerationId(): ValidationError {
  return new ValidationError(
    'The generation id is malformed (expected "gen_" followed by 22 base64url characters).',
    'generation_id',
    'invalid_generation_id',
  );
}

export function generationExpired(): ApiError {
  return new ApiError(410, 'invalid_request_error', 'This generation was not confirmed in time; ask again.', {
    code: 'generation_expired',
    param: 'generation_id',
  });
}

/** Confirming or cancelling a generation in a state that does not allow it (say, cancelling a finished one). */
export function generationConflict(status: string, what: 'confirmed' | 'cancelled'): ApiError {
  return new ApiError(409, 'invalid_request_error', `This generation is ${status} and cannot be ${what}.`, {
    code: what === 'confirmed' ? 'generation_not_confirmable' : 'generation_not_cancellable',
    param: 'generation_id',
  });
}

export function promptRefused(categories: string[]): ApiError {
  return new ApiError(
    400,
    'invalid_request_error',
    `This prompt was refused by moderation${categories.length ? ` (${categories.join(', ')})` : ''}.`,
    { code: 'prompt_refused', param: 'prompt' },
  );
}

export function moderationUnavailable(cause: unknown): ApiError {
  return new ApiError(
    503,
    'service_unavailable',
    'Prompt moderation is unavailable right now, so no image is generated; retry shortly.',
    { code: 'moderation_unavailable', retryAfterSeconds: 5, cause },
  );
}

export function noImageModel(edit: boolean): ApiError {
  return new ApiError(
    503,
    'service_unavailable',
    edit
      ? 'No image model that can edit images is available right now.'
      : 'No image model is available right now.',
    { code: 'image_generation_unavailable', retryAfterSeconds: 30 },
  );
}

export function editSourceNotReady(): ApiError {
  return new ApiError(409, 'invalid_request_error', 'The image to edit is not ready yet.', {
    code: 'image_not_ready',
    param: 'edit_image_id',
  });
}

export function sessionGenerationLimit(max: number): RateLimitError {
  // A session's count never rolls over: retrying helps only in a new session.
  return new RateLimitError(
    `This session has generated ${max} images, the most one session may.`,
    3600,
    'session_generation_limit',
  );
}

export function userHourlyLimit(max: number, retryAfterSeconds: number): RateLimitError {
  return new RateLimitError(
    `At most ${max} images per hour; retry in ${retryAfterSeconds} s.`,
    retryAfterSeconds,
    'image_rate_limited',
  );
}

export function userDailyCostCap(maxUsd: number, retryAfterSeconds: number): RateLimitError {
  return new RateLimitError(
    `This would pass the daily image budget of $${maxUsd}; retry in ${retryAfterSeconds} s.`,
    retryAfterSeconds,
    'image_daily_budget_exceeded',
  );
}
