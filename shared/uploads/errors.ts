// Upload refusals that are about the upload's state, not the image's content (those are
// ImageRejectedError from shared/images).
import { ApiError } from '../errors';

export function uploadNotFound(): ApiError {
  return new ApiError(
    409,
    'invalid_request_error',
    'Nothing has been uploaded for this image yet: POST the file to the upload form first.',
    {
      code: 'upload_not_found',
      param: 'image_id',
    },
  );
}

export function uploadSizeMismatch(declared: number, received: number): ApiError {
  return new ApiError(
    400,
    'invalid_request_error',
    `The uploaded file is ${received} bytes, but its form was issued for exactly ${declared}: ask for a new form with the file's real size.`,
    { code: 'upload_size_mismatch', param: 'contentLength' },
  );
}

export function imageBusy(): ApiError {
  return new ApiError(
    409,
    'invalid_request_error',
    'An image with the same content is being processed right now; retry in a moment.',
    {
      code: 'image_busy',
      retryAfterSeconds: 1,
    },
  );
}

export function imageNotUploadable(): ApiError {
  return new ApiError(
    409,
    'invalid_request_error',
    'This image was not created for a browser upload, so it cannot be completed.',
    {
      code: 'image_not_uploadable',
      param: 'image_id',
    },
  );
}
