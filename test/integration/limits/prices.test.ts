// Pure; lives beside the other limits tests.
import {
  DEFAULT_PRICES,
  estimateCostUsd,
  findPrice,
  PriceCatalogError,
  priceCatalogFrom,
} from '../../../shared/limits/prices';

test('the catalog covers the common vision models', () => {
  for (const model of [
    'gpt-4o',
    'gpt-4o-mini',
    'gpt-4.1',
    'gpt-4.1-mini',
    'gpt-5',
    'gpt-5-mini',
    'claude-sonnet-4-5',
    'claude-haiku-4-5',
    'claude-opus-4-1',
    'gemini-2.5-flash',
    'gemini-2.5-pro',
  ]) {
    expect(DEFAULT_PRICES[model]).toBeDefined();
  }
});

test('cost is tokens times the per-million price', () => {
  expect(estimateCostUsd('gpt-4o', { tokensIn: 1_000_000, tokensOut: 100_000 })).toEqual({
    costUsd: 3.5,
    priced: true,
  });
  const small = estimateCostUsd('gpt-4o-mini', { tokensIn: 1000, tokensOut: 200 });
  expect(small.costUsd).toBeCloseTo(0.00027, 10);
});

test('dated snapshots, aliases and provider prefixes find their family price', () => {
  expect(findPrice('gpt-4o-2024-08-06')).toBe(DEFAULT_PRICES['gpt-4o']);
  expect(findPrice('gpt-4o-mini-2024-07-18')).toBe(DEFAULT_PRICES['gpt-4o-mini']);
  expect(findPrice('claude-sonnet-4-5-20250929')).toBe(DEFAULT_PRICES['claude-sonnet-4-5']);
  expect(findPrice('claude-haiku-4-5@20251001')).toBe(DEFAULT_PRICES['claude-haiku-4-5']);
  expect(findPrice('openai:gpt-5-mini')).toBe(DEFAULT_PRICES['gpt-5-mini']);
  expect(findPrice('models/gemini-2.5-flash')).toBe(DEFAULT_PRICES['gemini-2.5-flash']);
});

test('a different variant does not inherit its family price', () => {
  expect(findPrice('gpt-4.1-nano')).toBeUndefined();
  expect(findPrice('gpt-4o-audio-preview')).toBeUndefined();
});

test('an unknown model costs 0 and says so', () => {
  expect(estimateCostUsd('llama-3.2-90b-vision', { tokensIn: 1000, tokensOut: 1000 })).toEqual({
    costUsd: 0,
    priced: false,
  });
});

test('a JSON map overrides and extends the catalog', () => {
  const catalog = priceCatalogFrom(
    '{"gpt-4o": {"inputPerMTok": 5, "outputPerMTok": 15}, "Llama-Vision": {"inputPerMTok": 0.2, "outputPerMTok": 0.2}}',
  );
  expect(estimateCostUsd('gpt-4o', { tokensIn: 1_000_000, tokensOut: 0 }, catalog).costUsd).toBe(5);
  expect(estimateCostUsd('llama-vision', { tokensIn: 1_000_000, tokensOut: 0 }, catalog)).toEqual({
    costUsd: 0.2,
    priced: true,
  });
  expect(priceCatalogFrom(undefined)).toBe(DEFAULT_PRICES);
  expect(() => priceCatalogFrom('{"x": {"inputPerMTok": -1, "outputPerMTok": 0}}')).toThrow(
    PriceCatalogError,
  );
  expect(() => priceCatalogFrom('not json')).toThrow(/not valid JSON/);
});
