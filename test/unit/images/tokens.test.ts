import { estimateImageTokens } from '../../../shared/images/tokens';

describe('estimateImageTokens', () => {
  test.each([
    // OpenAI's own worked examples for detail "high".
    [1024, 1024, 765], // -> 768x768, 4 tiles
    [2048, 4096, 1105], // -> 1024x2048 -> 768x1536, 6 tiles
    [512, 512, 255], // one tile
    [4000, 3000, 765], // -> 2048x1536 -> 1024x768, 4 tiles
    [100, 100, 255],
    // Our normalized 12 MP photo: 1024.55 x 768 truncates to 1024 x 768, 4 tiles (not 6).
    [1238, 928, 765],
  ])('openai %i x %i -> %i', (w, h, tokens) => {
    expect(estimateImageTokens(w, h, 'openai')).toBe(tokens);
  });

  test.each([
    [1092, 1092, 1590], // Anthropic's table: ~1590 at the largest 1:1 size
    [200, 200, 54],
    [1000, 1000, 1334],
    // Larger images are first scaled down to ~1600 tokens, so the cost is bounded.
    [4000, 3000, 1598],
    [1568, 300, 628],
  ])('anthropic %i x %i -> %i', (w, h, tokens) => {
    expect(estimateImageTokens(w, h, 'anthropic')).toBe(tokens);
  });

  test.each([
    [384, 384, 258],
    [100, 300, 258],
    [768, 768, 258],
    [385, 200, 258],
    [1024, 768, 516],
    [1568, 1176, 6 * 258],
  ])('gemini %i x %i -> %i', (w, h, tokens) => {
    expect(estimateImageTokens(w, h, 'gemini')).toBe(tokens);
  });

  test('rejects sizes that are not positive', () => {
    expect(() => estimateImageTokens(0, 10, 'openai')).toThrow(RangeError);
    expect(() => estimateImageTokens(10, Number.NaN, 'gemini')).toThrow(RangeError);
  });
});
