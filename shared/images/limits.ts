// The size limits every image is held to, apart from the code that enforces them: loading
// these must not load sharp (the chat function reads them at cold start).
export type NormalizedImageFormat = 'jpeg' | 'webp';

export interface ImageLimits {
  /** Largest accepted upload, in bytes (413 above). */
  maxInputBytes: number;
  /** Most pixels we agree to decode, judged from the header before any pixel is decoded. */
  maxInputPixels: number;
  /** Longest output edge; Anthropic downscales past 1568 px, so more is wasted bytes. */
  maxLongEdge: number;
  /** Most output pixels; Anthropic's ~1.15 MP is the strictest of the providers. */
  maxPixels: number;
  outputFormat: NormalizedImageFormat;
}

export const DEFAULT_IMAGE_LIMITS: Readonly<ImageLimits> = Object.freeze({
  // Phone photos are 2-8 MB; 20 MB leaves room for panoramas without inviting abuse.
  maxInputBytes: 20 * 1024 * 1024,
  maxInputPixels: 50_000_000,
  maxLongEdge: 1568,
  maxPixels: 1_150_000,
  outputFormat: 'jpeg',
});
