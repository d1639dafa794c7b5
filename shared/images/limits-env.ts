// The image limits as environment variables, read the same way by every function that handles
// images (uploads, and chat for images inside messages), so both accept the same images.
import { z } from 'zod';
import { ConfigError, type Env } from '../config';
import { intVar } from '../env-vars';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from './limits';

/** Largest raw upload or fetched image by default (phone photos are 2-8 MB). */
export const DEFAULT_MAX_UPLOAD_BYTES = 15 * 1024 * 1024;

export const imageEnvShape = {
  MAX_UPLOAD_BYTES: intVar(DEFAULT_MAX_UPLOAD_BYTES, 1024, 50 * 1024 * 1024),
  IMAGE_MAX_LONG_EDGE: intVar(DEFAULT_IMAGE_LIMITS.maxLongEdge, 64, 8000),
  IMAGE_MAX_PIXELS: intVar(DEFAULT_IMAGE_LIMITS.maxPixels, 4096, 64_000_000),
  IMAGE_MAX_INPUT_PIXELS: intVar(DEFAULT_IMAGE_LIMITS.maxInputPixels, 1_000_000, 268_402_689),
};

const imageEnvSchema = z.object(imageEnvShape);

export function imageLimitsFrom(e: z.infer<typeof imageEnvSchema>): ImageLimits {
  return {
    maxInputBytes: e.MAX_UPLOAD_BYTES,
    maxInputPixels: e.IMAGE_MAX_INPUT_PIXELS,
    maxLongEdge: e.IMAGE_MAX_LONG_EDGE,
    maxPixels: e.IMAGE_MAX_PIXELS,
    outputFormat: 'jpeg',
  };
}

export function loadImageLimits(env: Env): ImageLimits {
  const parsed = imageEnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = issue.path.join('.');
    throw new ConfigError(`${name} ${issue.message} (got "${String(env[name] ?? '').slice(0, 100)}")`);
  }
  return imageLimitsFrom(parsed.data);
}
