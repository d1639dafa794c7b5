// The refusals of the session API, each with one status and one stable code.
//
// Unknown sessions are 404 `session_not_found`. An expired session is 410 `session_expired`,
// but only to a caller holding its secret (everyone else learns nothing beyond 404/403), and
// only until DynamoDB's TTL sweeper deletes the items, after which it is 404: browsers treat
// both as "start a new session".
import { ApiError, NotFoundError, ValidationError } from '../errors';

export function sessionNotFound(): NotFoundError {
  return new NotFoundError(
    'No session with this id exists (it may have been deleted).',
    'session_not_found',
    'session_id',
  );
}

export function sessionExpired(): ApiError {
  return new ApiError(410, 'not_found_error', 'This session has expired. Create a new session.', {
    code: 'session_expired',
    param: 'session_id',
  });
}

export function imageNotFound(): NotFoundError {
  return new NotFoundError('This session has no image with this id.', 'image_not_found', 'image_id');
}

export function invalidSessionId(): ValidationError {
  return new ValidationError(
    'The session id is malformed (expected "s_" followed by 22 base64url characters).',
    'session_id',
    'invalid_session_id',
  );
}

export function invalidImageId(): ValidationError {
  return new ValidationError(
    'The image id is malformed (expected "img_" followed by 22 base64url characters).',
    'image_id',
    'invalid_image_id',
  );
}

export function invalidConversationId(): ValidationError {
  return new ValidationError(
    'The conversation id is malformed (expected the id ElevenLabs reports, e.g. "conv_..."; letters, digits, "_" and "-").',
    'conversationId',
    'invalid_conversation_id',
  );
}

export function conversationAlreadyLinked(): ApiError {
  return new ApiError(
    409,
    'invalid_request_error',
    'This conversation is already linked to another session.',
    {
      code: 'conversation_already_linked',
      param: 'conversationId',
    },
  );
}

export function imageLimitReached(max: number): ApiError {
  return new ApiError(
    409,
    'invalid_request_error',
    `This session already holds ${max} images, the most one session may have.`,
    {
      code: 'session_image_limit_reached',
    },
  );
}

export function conversationLimitReached(max: number): ApiError {
  return new ApiError(
    409,
    'invalid_request_error',
    `This session is already linked to ${max} conversations. Create a new session.`,
    {
      code: 'session_conversation_limit_reached',
    },
  );
}
