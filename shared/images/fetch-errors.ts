// Why an image URL was refused or could not be fetched, as typed errors with stable codes.
import { ApiError } from '../errors';

export type UnsafeUrlCode =
  | 'url_not_allowed'
  | 'url_scheme_not_allowed'
  | 'url_resolves_to_private_address'
  | 'too_many_redirects';

/** The URL (or a redirect it led to) is one this server will not fetch. */
export class UnsafeUrlError extends ApiError {
  declare readonly code: UnsafeUrlCode;

  constructor(code: UnsafeUrlCode, message: string) {
    super(400, 'invalid_request_error', message, { code });
  }
}

export type ImageFetchFailureCode = 'url_fetch_failed' | 'url_fetch_timeout';

/**
 * The URL was allowed but did not deliver an image. A 400, not a 5xx: the client chose the
 * URL, and retrying the same one against this server will not help.
 */
export class ImageFetchError extends ApiError {
  declare readonly code: ImageFetchFailureCode;

  constructor(code: ImageFetchFailureCode, message: string, cause?: unknown) {
    super(400, 'invalid_request_error', message, { code, cause });
  }
}
