// The errors of image generation: a provider's content-policy refusal (the user's answer, never a
// provider failure), malformed image data from a provider, and the end of the failover line.
import { ApiError, UpstreamError } from '../errors';
import type { ImageAttempt } from './types';

/**
 * A provider refused the prompt or the image on content-policy grounds. It is what the user
 * asked for that was refused, not the provider failing: it never counts against a breaker and
 * is never failed over (another provider would be asked to draw what one has just refused).
 * The message is safe to speak: it names the provider and, briefly, the reason it gave.
 */
export class ImageRefusedError extends ApiError {
  readonly provider: string;
  readonly entryId: string | undefined;
  /** The provider's own code, e.g. `content_policy_violation`, `moderation_blocked`, `nsfw`. */
  readonly providerCode: string;
  /** Tries made before and including the refusal (set by the runner). */
  attempts: ImageAttempt[] = [];

  constructor(
    provider: string,
    reason: string,
    opts: { providerCode: string; entryId?: string; cause?: unknown },
  ) {
    super(400, 'invalid_request_error', `${provider} refused to make this image: ${reason}`, {
      code: 'image_refused',
      cause: opts.cause,
    });
    // Set by hand: production bundles are minified, and a renamed class would change new.target.name.
    this.name = 'ImageRefusedError';
    this.provider = provider;
    this.entryId = opts.entryId;
    this.providerCode = opts.providerCode;
  }
}

/** errorClass of a provider answer that carried no usable image (bad base64, not an image). */
export const MALFORMED_IMAGE = 'malformed_image';

/** A provider answered 200 but what it sent is not an image we can use: its fault, fail over. */
export function malformedImage(provider: string, detail: string): UpstreamError {
  return new UpstreamError(`${provider} returned no usable image: ${detail}`, {
    status: 502,
    errorClass: MALFORMED_IMAGE,
    code: 'upstream_malformed_image',
  });
}

/** No entry produced an image: names every entry tried and what happened to it. */
export class ImageGenerationFailedError extends UpstreamError {
  readonly attempts: ImageAttempt[];
  constructor(
    message: string,
    opts: ConstructorParameters<typeof UpstreamError>[1],
    attempts: ImageAttempt[],
  ) {
    super(message, opts);
    this.name = 'ImageGenerationFailedError';
    this.attempts = attempts;
  }
}
