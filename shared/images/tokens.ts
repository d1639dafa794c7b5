// Estimates what one image costs in prompt tokens at each provider, for budgets and logs.
// Estimates only: the provider's usage report is the truth, and these rules change by model.
import { fitWithinCaps } from './fit';

export type VisionProvider = 'openai' | 'anthropic' | 'gemini';

/** OpenAI "high" detail (tile-based models such as GPT-4o and GPT-4.1). */
const OPENAI_MAX_EDGE = 2048;
const OPENAI_SHORT_SIDE = 768;
const OPENAI_TILE = 512;
const OPENAI_TOKENS_PER_TILE = 170;
const OPENAI_BASE_TOKENS = 85;

/**
 * Anthropic scales an image down until its long edge is at most 1568 px and it costs at most
 * ~1600 tokens (its table lists 1092 x 1092 at ~1590), then charges w * h / 750.
 */
const ANTHROPIC_MAX_LONG_EDGE = 1568;
const ANTHROPIC_PIXELS_PER_TOKEN = 750;
const ANTHROPIC_MAX_PIXELS = 1600 * ANTHROPIC_PIXELS_PER_TOKEN;

/** Gemini 2.x: small images are one tile; larger ones are cut into 768 px tiles. */
const GEMINI_SMALL_EDGE = 384;
const GEMINI_TILE = 768;
const GEMINI_TOKENS_PER_TILE = 258;

function openaiHighDetailTokens(width: number, height: number): number {
  let w = width;
  let h = height;
  // Step 1: fit within 2048 x 2048 (downscale only).
  const fit = Math.min(1, OPENAI_MAX_EDGE / Math.max(w, h));
  w = Math.round(w * fit);
  h = Math.round(h * fit);
  // Step 2: shortest side down to 768 (downscale only). Truncated, as a resize to whole pixels
  // does: rounding would turn 1238 x 928 into 1025 x 768 and count a third column of tiles
  // that a 1024-pixel-wide image does not have.
  const shrink = Math.min(1, OPENAI_SHORT_SIDE / Math.min(w, h));
  w = Math.floor(w * shrink);
  h = Math.floor(h * shrink);
  const tiles = Math.ceil(w / OPENAI_TILE) * Math.ceil(h / OPENAI_TILE);
  return OPENAI_BASE_TOKENS + OPENAI_TOKENS_PER_TILE * tiles;
}

function anthropicTokens(width: number, height: number): number {
  const seen = fitWithinCaps({ width, height }, ANTHROPIC_MAX_LONG_EDGE, ANTHROPIC_MAX_PIXELS);
  return Math.ceil((seen.width * seen.height) / ANTHROPIC_PIXELS_PER_TOKEN);
}

/**
 * Gemini 2.x documents 258 tokens for an image with both sides <= 384 px and 258 per 768 x 768
 * tile otherwise; we count tiles by ceiling on each axis, which can over-count by a tile per
 * axis compared to Google's crop-unit rule: erring high is the safe side for a budget. Gemini 3
 * bills by `media_resolution` instead; callers on those models should treat this as a guide.
 */
function geminiTokens(width: number, height: number): number {
  if (width <= GEMINI_SMALL_EDGE && height <= GEMINI_SMALL_EDGE) return GEMINI_TOKENS_PER_TILE;
  return Math.ceil(width / GEMINI_TILE) * Math.ceil(height / GEMINI_TILE) * GEMINI_TOKENS_PER_TILE;
}

/** Prompt tokens one image of this size costs at `provider` (OpenAI at detail "high"). */
export function estimateImageTokens(width: number, height: number, provider: VisionProvider): number {
  if (!(width > 0 && height > 0)) throw new RangeError(`image size must be positive, got ${width}x${height}`);
  switch (provider) {
    case 'openai':
      return openaiHighDetailTokens(width, height);
    case 'anthropic':
      return anthropicTokens(width, height);
    case 'gemini':
      return geminiTokens(width, height);
    default: {
      const unreachable: never = provider;
      throw new Error(`unknown provider ${String(unreachable)}`);
    }
  }
}
