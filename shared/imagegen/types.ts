// The contract of image generation: what an image provider does, what the catalog says about
// each model, and what generating one image (with failover down the catalog) gives back.
// Providers and the runner (shared/imagegen/providers, catalog.ts, runner.ts) implement it; the
// generation jobs, the chat tool and the browser API (jobs, tool, store) only use it.

/** Quality tiers the tool and the browser API offer; the catalog maps each to models. */
export type ImageQuality = 'low' | 'medium' | 'high';

/** Aspect the user asked for; each catalog entry maps it to a size its model accepts. */
export type ImageAspect = 'square' | 'landscape' | 'portrait';

export type ImageProviderKind = 'openai' | 'google' | 'together' | 'replicate' | 'compatible' | 'echo';

/** One model in the catalog, with its price from the provider's public page. */
export interface CatalogEntry {
  /** "provider:model", unique in the catalog (e.g. "openai:gpt-image-1:medium"). */
  id: string;
  /** Provider instance name, as configured (e.g. "openai", "together", "replicate"). */
  provider: string;
  model: string;
  quality: ImageQuality;
  /** Size sent to the provider for each aspect (e.g. "1024x1024", or "16:9" for aspect-ratio APIs). */
  sizes: Record<ImageAspect, string>;
  /**
   * US dollars per image at this quality and these sizes. Where the price differs by aspect
   * (`priceByAspect`), this is the highest of them, so an estimate made from it never under-quotes.
   */
  priceUsd: number;
  /** The price for one aspect where it differs from `priceUsd` (see `priceOf` in catalog.ts). */
  priceByAspect?: Partial<Record<ImageAspect, number>>;
  /** Where the price comes from and when it was read (e.g. "https://openai.com/api/pricing 2026-11-30"). */
  priceSource: string;
  /** Lower is tried first among entries of the same quality. */
  priority: number;
  /** Whether the model can edit a given image (image + prompt), not only generate. */
  edits: boolean;
  enabled: boolean;
  /** Why an entry is as it is (a retired model, a price not read from the provider's own page). */
  note?: string;
}

/** What the user asked for, after validation. */
export interface ImageRequest {
  prompt: string;
  quality: ImageQuality;
  aspect: ImageAspect;
  style?: string;
  /** The image to edit, already read from the session (bytes of its normalized copy). */
  source?: { bytes: Uint8Array; mimeType: string };
}

/** One provider call: the chosen entry and the request, cancellable. */
export interface ImageCall {
  entry: CatalogEntry;
  request: ImageRequest;
  signal: AbortSignal;
}

/** An image as a provider returns it, already downloaded (Replicate's URL is fetched by the provider). */
export interface ProviderImage {
  bytes: Uint8Array;
  mimeType: string;
  /** The provider's revised prompt, when it reports one (DALL·E 3). */
  revisedPrompt?: string;
}

export interface ImageProvider {
  readonly name: string;
  readonly kind: ImageProviderKind;
  /** Whether a key (or, for keyless servers, a base URL) is configured. */
  readonly configured: boolean;
  /**
   * Generates (or, with `request.source`, edits) one image. Rejects with an UpstreamError
   * (shared/errors.ts) on failure; a content-policy refusal is an `ImageRefusedError`.
   */
  generate(call: ImageCall): Promise<ProviderImage>;
}

/** One try at one catalog entry, as the runner records it. */
export interface ImageAttempt {
  entryId: string;
  ok: boolean;
  errorClass?: string;
  ms: number;
}

/** What generating one image gives back: the image, who made it, what it cost. */
export interface GenerationResult {
  image: ProviderImage;
  entry: CatalogEntry;
  costUsd: number;
  attempts: ImageAttempt[];
  /** True when the entry that answered was not the first one tried. */
  fallbackUsed: boolean;
}

/** Generates one image, failing over down the given entries (the catalog's choice for a request). */
export interface ImageGenerator {
  /**
   * Entries usable now for this request (configured, enabled, breaker not open), cheapest-first
   * within priority; "cheapest" at `aspect` when given (square otherwise).
   */
  candidates(
    request: Pick<ImageRequest, 'quality' | 'source'> & { aspect?: ImageAspect },
  ): Promise<CatalogEntry[]>;
  generate(request: ImageRequest, entries: CatalogEntry[], signal: AbortSignal): Promise<GenerationResult>;
}
