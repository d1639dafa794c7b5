// The image limits as environment variables, one shape for every function that handles images
// (uploads, and chat for images inside messages), so all of them accept the same images.
import type { z } from 'zod';
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

type ImageEnv = { [K in keyof typeof imageEnvShape]: z.infer<(typeof imageEnvShape)[K]> };

export function imageLimitsFrom(e: ImageEnv): ImageLimits {
  return {
    maxInputBytes: e.MAX_UPLOAD_BYTES,
    maxInputPixels: e.IMAGE_MAX_INPUT_PIXELS,
    maxLongEdge: e.IMAGE_MAX_LONG_EDGE,
    maxPixels: e.IMAGE_MAX_PIXELS,
    outputFormat: 'jpeg',
  };
}
