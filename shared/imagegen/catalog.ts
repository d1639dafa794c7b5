// The image catalog: which models can draw, at what quality, size and price (from the providers'
// public price pages, with the date read), in which order; its override from IMAGE_CATALOG; and
// the pure choice of candidates for a request.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../errors';
import type { CatalogEntry, ImageAspect, ImageQuality, ImageRequest } from './types';

const READ = '2026-12-03';
const OPENAI_SIZES = { square: '1024x1024', landscape: '1536x1024', portrait: '1024x1536' } as const;
const FLUX_TOGETHER_SIZES = { square: '1024x1024', landscape: '1344x768', portrait: '768x1344' } as const;
const REPLICATE_ASPECTS = { square: '1:1', landscape: '3:2', portrait: '2:3' } as const;
const OPENAI_MINI_PAGE = `https://developers.openai.com/api/docs/models/gpt-image-1-mini (read ${READ})`;
const GEMINI_PRICING = `https://ai.google.dev/gemini-api/docs/pricing, as quoted from it in https://discuss.ai.google.dev/t/issue-with-url-context-tooling/101173 (read ${READ})`;
const TOGETHER_PRICING = `https://www.together.ai/pricing, as quoted in https://www.workflowlab.dev/cost/flux-api-options-compared "verified May 11, 2026" (read ${READ}); not read on Together's own page`;

/**
 * The built-in catalog. Prices are per image at the sizes given; the sources say where and
 * when each was read. Entries for models their provider has shut down stay listed, disabled,
 * so an override can turn them back on for a compatible server that still serves them.
 */
export const DEFAULT_IMAGE_CATALOG: readonly CatalogEntry[] = Object.freeze([
  {
    id: 'openai:gpt-image-1-mini:low',
    provider: 'openai',
    model: 'gpt-image-1-mini',
    quality: 'low',
    sizes: OPENAI_SIZES,
    priceUsd: 0.006,
    priceByAspect: { square: 0.005 },
    priceSource: OPENAI_MINI_PAGE,
    priority: 10,
    edits: true,
    enabled: true,
    note: 'OpenAI marks gpt-image-1-mini deprecated; it is still served.',
  },
  {
    id: 'openai:gpt-image-1-mini:medium',
    provider: 'openai',
    model: 'gpt-image-1-mini',
    quality: 'medium',
    sizes: OPENAI_SIZES,
    priceUsd: 0.015,
    priceByAspect: { square: 0.011 },
    priceSource: OPENAI_MINI_PAGE,
    priority: 10,
    edits: true,
    enabled: true,
  },
  {
    id: 'openai:gpt-image-1-mini:high',
    provider: 'openai',
    model: 'gpt-image-1-mini',
    quality: 'high',
    sizes: OPENAI_SIZES,
    priceUsd: 0.052,
    priceByAspect: { square: 0.036 },
    priceSource: OPENAI_MINI_PAGE,
    priority: 20,
    edits: true,
    enabled: true,
  },
  {
    id: 'openai:gpt-image-1.5:high',
    provider: 'openai',
    model: 'gpt-image-1.5',
    quality: 'high',
    sizes: OPENAI_SIZES,
    priceUsd: 0.2,
    priceByAspect: { square: 0.133 },
    priceSource: `OpenAI's per-image prices as listed by https://www.llmreference.com/model/gpt-image-1.5/openai-api (refreshed 2026-05-10) and https://runware.ai/docs/models/openai-gpt-image-1-5 (read ${READ}); not read on OpenAI's own page`,
    priority: 10,
    edits: true,
    enabled: true,
  },
  {
    id: 'openai:gpt-image-1:medium',
    provider: 'openai',
    model: 'gpt-image-1',
    quality: 'medium',
    sizes: OPENAI_SIZES,
    priceUsd: 0.063,
    priceByAspect: { square: 0.042 },
    priceSource: `OpenAI's last published per-image prices, as listed by https://www.burncloud.com/aiapi-detail/gpt-image-1.html (read ${READ})`,
    priority: 50,
    edits: true,
    enabled: false,
    note: 'Shut down by OpenAI on 2026-10-23 (openai SDK 7.55 model docs); kept for compatible servers.',
  },
  {
    id: 'openai:dall-e-3:medium',
    provider: 'openai',
    model: 'dall-e-3',
    quality: 'medium',
    sizes: { square: '1024x1024', landscape: '1792x1024', portrait: '1024x1792' },
    priceUsd: 0.08,
    priceByAspect: { square: 0.04 },
    priceSource: `OpenAI's last published standard-quality prices, as listed in https://github.com/kevinhermawan/Canvas/blob/main/model-info.json (pricing_updated_at 2023-12-25); https://developers.openai.com/api/docs/models/dall-e-3 says "Shut down" (read ${READ})`,
    priority: 60,
    edits: false,
    enabled: false,
    note: 'Retired by OpenAI on 2026-05-12; kept for compatible servers (Azure, proxies) that still serve it.',
  },
  {
    id: 'google:gemini-2.5-flash-image:medium',
    provider: 'google',
    model: 'gemini-2.5-flash-image',
    quality: 'medium',
    sizes: OPENAI_SIZES,
    priceUsd: 0.039,
    priceSource: GEMINI_PRICING,
    priority: 20,
    edits: false,
    enabled: true,
    note: "Through Gemini's OpenAI-compatible /images/generations, which serves this model (https://discuss.ai.google.dev/t/180711); that endpoint has no edits.",
  },
  {
    id: 'google:imagen-4.0-fast-generate-001:low',
    provider: 'google',
    model: 'imagen-4.0-fast-generate-001',
    quality: 'low',
    sizes: OPENAI_SIZES,
    priceUsd: 0.02,
    priceSource: GEMINI_PRICING,
    priority: 40,
    edits: false,
    enabled: false,
    note: "Google's pricing page carries a shutdown notice for Imagen 4 dated 2026-08-17 (as reported by https://wavespeed.ai/blog/ja/image-model-access/gemini-image-generation-api/); enable if your key still reaches it.",
  },
  {
    id: 'google:imagen-4.0-ultra-generate-001:high',
    provider: 'google',
    model: 'imagen-4.0-ultra-generate-001',
    quality: 'high',
    sizes: OPENAI_SIZES,
    priceUsd: 0.06,
    priceSource: GEMINI_PRICING,
    priority: 40,
    edits: false,
    enabled: false,
    note: 'See imagen-4.0-fast-generate-001.',
  },
  {
    id: 'together:black-forest-labs/FLUX.1-schnell:low',
    provider: 'together',
    model: 'black-forest-labs/FLUX.1-schnell',
    quality: 'low',
    sizes: FLUX_TOGETHER_SIZES,
    priceUsd: 0.0027,
    priceSource: TOGETHER_PRICING,
    priority: 20,
    edits: false,
    enabled: true,
    note: 'Priced at 1024x1024 and 4 steps; Together bills by megapixel, so the wider sizes cost about the same.',
  },
  {
    id: 'together:black-forest-labs/FLUX.1-dev:medium',
    provider: 'together',
    model: 'black-forest-labs/FLUX.1-dev',
    quality: 'medium',
    sizes: FLUX_TOGETHER_SIZES,
    priceUsd: 0.0154,
    priceSource: TOGETHER_PRICING,
    priority: 30,
    edits: false,
    enabled: true,
  },
  {
    id: 'replicate:black-forest-labs/flux-schnell:low',
    provider: 'replicate',
    model: 'black-forest-labs/flux-schnell',
    quality: 'low',
    sizes: REPLICATE_ASPECTS,
    priceUsd: 0.003,
    priceSource: `https://replicate.com/black-forest-labs/flux-schnell "$3 per thousand output images" (read ${READ})`,
    priority: 30,
    edits: false,
    enabled: true,
  },
  {
    id: 'replicate:black-forest-labs/flux-dev:medium',
    provider: 'replicate',
    model: 'black-forest-labs/flux-dev',
    quality: 'medium',
    sizes: REPLICATE_ASPECTS,
    priceUsd: 0.025,
    priceSource: `https://replicate.com/pricing, as quoted in https://www.workflowlab.dev/cost/flux-api-options-compared "verified May 11, 2026" (read ${READ}); not read on Replicate's own page`,
    priority: 40,
    edits: false,
    enabled: true,
  },
  {
    id: 'replicate:black-forest-labs/flux-1.1-pro:high',
    provider: 'replicate',
    model: 'black-forest-labs/flux-1.1-pro',
    quality: 'high',
    sizes: REPLICATE_ASPECTS,
    priceUsd: 0.04,
    priceSource: `no price found on Replicate's own pages (read ${READ}); $0.04 per image is the figure third parties report (https://aipricly.com/en/models/bfl/flux-pro-1-1); check before relying on it`,
    priority: 30,
    edits: false,
    enabled: true,
  },
  ...(['low', 'medium', 'high'] as const).map(
    (quality): CatalogEntry => ({
      id: `echo:echo-image:${quality}`,
      provider: 'echo',
      model: 'echo-image',
      quality,
      sizes: { square: '512x512', landscape: '768x512', portrait: '512x768' },
      priceUsd: 0,
      priceSource: 'local: draws the prompt as a picture with sharp, no provider is called',
      // Last, so a configured real provider always goes first.
      priority: 1000,
      edits: true,
      enabled: true,
    }),
  ),
]);

/** The price of one image at this aspect. */
export function priceOf(entry: CatalogEntry, aspect: ImageAspect): number {
  return entry.priceByAspect?.[aspect] ?? entry.priceUsd;
}

const price = z.number().finite().nonnegative();
const sizesSchema = z
  .object({ square: z.string().min(1), landscape: z.string().min(1), portrait: z.string().min(1) })
  .strict();
const entryFields = {
  provider: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'provider names are letters, digits, "-" and "_"'),
  model: z.string().min(1),
  quality: z.enum(['low', 'medium', 'high']),
  sizes: sizesSchema,
  priceUsd: price,
  priceByAspect: z.object({ square: price, landscape: price, portrait: price }).partial().strict(),
  priceSource: z.string().min(1, 'say where the price comes from and when it was read'),
  priority: z.number().int(),
  edits: z.boolean(),
  enabled: z.boolean(),
  note: z.string(),
};
const fullEntrySchema = z
  .object(entryFields)
  .partial({ priceByAspect: true, note: true, edits: true, enabled: true, priority: true })
  .strict();
const patchSchema = z.object(entryFields).partial().strict();
/** IMAGE_CATALOG: entry id -> a patch of a built-in entry, a whole new entry, or null to remove one. */
const overrideSchema = z.record(z.string().min(1), z.union([z.null(), z.record(z.string(), z.unknown())]));

function issueText(err: z.ZodError): string {
  const issue = err.issues[0]!;
  return `${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`;
}

/**
 * Applies an override to a catalog. `source` names where the override came from (the variable,
 * or the stage file) in every message. Pure: nothing is read here.
 */
export function applyCatalogOverride(
  base: readonly CatalogEntry[],
  override: unknown,
  knownProviders: ReadonlySet<string>,
  source = 'IMAGE_CATALOG',
): CatalogEntry[] {
  const top = overrideSchema.safeParse(override);
  if (!top.success)
    throw new ConfigError(
      `${source} must be an object of catalog entry id -> entry fields (or null to remove it): ${issueText(top.error)}`,
    );
  const byId = new Map(base.map((e) => [e.id, { ...e }]));
  for (const [id, value] of Object.entries(top.data)) {
    const existing = byId.get(id);
    if (value === null) {
      if (!existing)
        throw new ConfigError(`${source}: entry "${id}" cannot be removed, there is no such entry`);
      byId.delete(id);
      continue;
    }
    if (existing) {
      const patch = patchSchema.safeParse(value);
      if (!patch.success)
        throw new ConfigError(`${source} entry "${id}" is invalid at ${issueText(patch.error)}`);
      byId.set(id, { ...existing, ...patch.data });
      continue;
    }
    const full = fullEntrySchema.safeParse(value);
    if (!full.success)
      throw new ConfigError(`${source} entry "${id}" (a new entry) is invalid at ${issueText(full.error)}`);
    byId.set(id, { id, priority: 100, edits: false, enabled: true, ...full.data });
  }
  const entries = [...byId.values()];
  for (const e of entries) {
    if (!knownProviders.has(e.provider))
      throw new ConfigError(
        `${source}: entry "${e.id}" names unknown image provider "${e.provider}" (known: ${[...knownProviders].join(', ')})`,
      );
    const prices = Object.values(e.priceByAspect ?? {});
    if (prices.some((p) => p > e.priceUsd))
      throw new ConfigError(
        `${source}: entry "${e.id}" has a priceByAspect above its priceUsd; priceUsd must be the highest, so estimates never under-quote`,
      );
  }
  return entries;
}

/**
 * The catalog from IMAGE_CATALOG (inline JSON, or a path to a JSON file, as a stage file would
 * ship it) over the built-in list; the built-in list alone when unset.
 */
export function loadImageCatalog(
  raw: string | undefined,
  knownProviders: ReadonlySet<string>,
  base: readonly CatalogEntry[] = DEFAULT_IMAGE_CATALOG,
): CatalogEntry[] {
  if (raw === undefined || raw.trim() === '') return applyCatalogOverride(base, {}, knownProviders);
  const text = /^[[{]/.test(raw.trim()) ? raw : readCatalogFile(raw.trim());
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`IMAGE_CATALOG is not valid JSON: ${(err as Error).message}`);
  }
  return applyCatalogOverride(base, json, knownProviders);
}

function readCatalogFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`IMAGE_CATALOG is neither JSON nor a readable file: ${(err as Error).message}`);
  }
}

/** What candidates() needs to know about one entry right now. */
export interface EntryAvailability {
  /** The entry's provider has a key (or, for keyless servers, a base URL). */
  configured: boolean;
  /** The entry's breaker is open (cooling down); half-open entries stay candidates. */
  open: boolean;
}

/**
 * The entries that can serve a request now, in the order to try them: enabled, configured,
 * breaker not open, of the asked quality, able to edit when a source image is given; lower
 * priority first, then cheaper (at the asked aspect when given), then id for a stable order.
 */
export function selectCandidates(
  catalog: readonly CatalogEntry[],
  request: { quality: ImageQuality; source?: ImageRequest['source']; aspect?: ImageAspect },
  availability: (entry: CatalogEntry) => EntryAvailability,
): CatalogEntry[] {
  const aspect = request.aspect ?? 'square';
  return catalog
    .filter((e) => e.enabled && e.quality === request.quality && (!request.source || e.edits))
    .filter((e) => {
      const a = availability(e);
      return a.configured && !a.open;
    })
    .sort(
      (a, b) =>
        a.priority - b.priority || priceOf(a, aspect) - priceOf(b, aspect) || a.id.localeCompare(b.id),
    );
}

/** The breaker target of an entry: image entries share the chat breaker's table, apart by prefix. */
export function breakerTargetOf(entry: CatalogEntry): string {
  return `image:${entry.id}`;
}
