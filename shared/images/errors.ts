// Why an image was refused, as a typed error with a stable code clients can branch on.
import { ApiError } from '../errors';

export type ImageRejectionCode =
  | 'not_an_image'
  | 'unsupported_image_format'
  | 'svg_not_allowed'
  | 'image_truncated'
  | 'image_too_many_pixels'
  | 'image_too_large'
  | 'image_decode_failed';

/**
 * 400 for anything wrong with the image itself; 413 only when the byte size is over the cap,
 * since that is the one case where the client can fix it by sending less data unchanged.
 */
export class ImageRejectedError extends ApiError {
  declare readonly code: ImageRejectionCode;

  constructor(code: ImageRejectionCode, message: string, opts: { param?: string; cause?: unknown } = {}) {
    super(code === 'image_too_large' ? 413 : 400, 'invalid_request_error', message, {
      code,
      param: opts.param ?? null,
      cause: opts.cause,
    });
  }
}

/** "4.2 MB" style sizes for messages people read. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export function imageTooLarge(actualBytes: number | undefined, maxBytes: number): ImageRejectedError {
  const actual = actualBytes === undefined ? 'The image is' : `The image is ${formatBytes(actualBytes)},`;
  return new ImageRejectedError(
    'image_too_large',
    `${actual} larger than the ${formatBytes(maxBytes)} limit. Send a smaller or more compressed image.`,
  );
}
