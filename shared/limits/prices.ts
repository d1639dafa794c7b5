// Approximate list prices (USD per million tokens) to estimate what a session spends, for the
// session budget. Not billing: providers change prices, and cached or long-context input is
// priced differently. Deployments can override or extend the table with a JSON map.
import { z } from 'zod';

export interface ModelPrice {
  /** USD per million input (prompt) tokens. */
  inputPerMTok: number;
  /** USD per million output (completion) tokens. */
  outputPerMTok: number;
}

export type PriceCatalog = Readonly<Record<string, ModelPrice>>;

export interface TokenUsage {
  tokensIn: number;
  tokensOut: number;
}

export interface CostEstimate {
  costUsd: number;
  /** False when the model is not in the catalog and the cost was taken as 0. */
  priced: boolean;
}

/** Approximate public list prices (standard tier, short context), as of late 2025. */
export const DEFAULT_PRICES: PriceCatalog = Object.freeze({
  'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10 },
  'gpt-4o-mini': { inputPerMTok: 0.15, outputPerMTok: 0.6 },
  'gpt-4.1': { inputPerMTok: 2, outputPerMTok: 8 },
  'gpt-4.1-mini': { inputPerMTok: 0.4, outputPerMTok: 1.6 },
  'gpt-5': { inputPerMTok: 1.25, outputPerMTok: 10 },
  'gpt-5-mini': { inputPerMTok: 0.25, outputPerMTok: 2 },
  'claude-sonnet-4-5': { inputPerMTok: 3, outputPerMTok: 15 },
  'claude-haiku-4-5': { inputPerMTok: 1, outputPerMTok: 5 },
  'claude-opus-4-1': { inputPerMTok: 15, outputPerMTok: 75 },
  'gemini-2.5-flash': { inputPerMTok: 0.3, outputPerMTok: 2.5 },
  'gemini-2.5-pro': { inputPerMTok: 1.25, outputPerMTok: 10 },
});

const priceOverridesSchema = z.record(
  z.string().min(1),
  z.object({ inputPerMTok: z.number().min(0), outputPerMTok: z.number().min(0) }).strict(),
);

export class PriceCatalogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PriceCatalogError';
  }
}

/** The default catalog overlaid with a JSON map `{"model": {"inputPerMTok": n, "outputPerMTok": n}}`. */
export function priceCatalogFrom(overridesJson: string | undefined): PriceCatalog {
  if (overridesJson === undefined || overridesJson.trim() === '') return DEFAULT_PRICES;
  let json: unknown;
  try {
    json = JSON.parse(overridesJson);
  } catch (err) {
    throw new PriceCatalogError(`price overrides are not valid JSON: ${(err as Error).message}`);
  }
  const parsed = priceOverridesSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PriceCatalogError(
      `price overrides are invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    );
  }
  const overrides = Object.entries(parsed.data).map(
    ([model, price]) => [model.trim().toLowerCase(), price] as const,
  );
  return Object.freeze({ ...DEFAULT_PRICES, ...Object.fromEntries(overrides) });
}

// Dated snapshots and aliases share their family's price: "gpt-4o-2024-08-06",
// "claude-sonnet-4-5-20250929", "claude-haiku-4-5@20251001", "gpt-5-mini-latest". Anything
// else (a "-nano" or "-audio" variant) must be listed itself rather than inherit a wrong price.
const VERSION_SUFFIX = /^(?:-\d{4}-\d{2}-\d{2}|-\d{8}|-latest|-preview(?:-[\w.]+)*|@[\w.-]+)$/;

/** The catalog entry for an upstream model name, ignoring a provider prefix and a version suffix. */
export function findPrice(model: string, catalog: PriceCatalog = DEFAULT_PRICES): ModelPrice | undefined {
  const name = model
    .trim()
    .toLowerCase()
    .replace(/^.*[:/]/, '');
  const exact = catalog[name];
  if (exact) return exact;
  let best: { key: string; price: ModelPrice } | undefined;
  for (const [key, price] of Object.entries(catalog)) {
    if (name.startsWith(key) && VERSION_SUFFIX.test(name.slice(key.length))) {
      if (!best || key.length > best.key.length) best = { key, price };
    }
  }
  return best?.price;
}

export function estimateCostUsd(
  model: string,
  usage: TokenUsage,
  catalog: PriceCatalog = DEFAULT_PRICES,
): CostEstimate {
  const price = findPrice(model, catalog);
  if (!price) return { costUsd: 0, priced: false };
  const costUsd = (usage.tokensIn * price.inputPerMTok + usage.tokensOut * price.outputPerMTok) / 1_000_000;
  return { costUsd, priced: true };
}
