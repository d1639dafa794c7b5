// The image generator's configuration (read once, at start, by the function's loader) and its
// composition: the providers (provider-config.ts), the catalog (built-in list + IMAGE_CATALOG),
// the run settings, wired to the persistent breaker on the control table.
import { ConfigError } from '../errors';
import type { Logger } from '../observability/log';
import type { FetchLike } from '../providers/http-transport';
import { applyCatalogOverride, DEFAULT_IMAGE_CATALOG } from './catalog';
import type { ImageGeneratorSettings } from './config';
import type { ImageRunSettings } from './policy';
import { loadImageProviderConfigs } from './provider-config';
import { createImageProviders, type ImageProviderOptions, type ImageProviders } from './providers/registry';
import { createImageGenerator, type ImageGeneratorDeps, type ImageRunner } from './runner';

export interface ImageGenerationSetup {
  generator: ImageRunner;
  providers: ImageProviders;
}

export interface ImageSetupOptions {
  breaker?: ImageGeneratorDeps['breaker'];
  log?: Logger;
  /** The shared keep-alive transport, if the host has one. */
  fetch?: FetchLike;
  /** Test hooks: Replicate polling and output download (loopback fakes). */
  replicate?: ImageProviderOptions['replicate'];
  /** Overrides of what the environment says (tests: short timeouts). */
  settings?: Partial<ImageRunSettings>;
}

/** The generator from its settings (nothing here reads the environment). */
export function composeImageGenerator(
  loaded: ImageGeneratorSettings,
  opts: ImageSetupOptions = {},
): ImageGenerationSetup {
  const settings = { ...loaded.run, ...opts.settings };
  const providers = createImageProviders(loaded.providers, {
    timeoutMs: settings.attemptTimeoutMs,
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    ...(opts.replicate ? { replicate: opts.replicate } : {}),
  });
  const generator = createImageGenerator({
    catalog: loaded.catalog,
    providers,
    settings,
    ...(opts.breaker ? { breaker: opts.breaker } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  return { generator, providers };
}

/**
 * The stage file's check at synth (infra/stage-config.ts): the validation start-up does on
 * IMAGE_PROVIDERS and IMAGE_CATALOG, applied to the stage file's `imageProviders` and
 * `imageCatalog` objects, so a bad catalog fails `make deploy` rather than the first cold start.
 * Throws ConfigError whose message starts with `source`.
 */
export function checkStageImageConfig(
  source: string,
  fields: { imageProviders?: unknown; imageCatalog?: unknown },
): void {
  try {
    const configs = loadImageProviderConfigs(
      fields.imageProviders === undefined ? {} : { IMAGE_PROVIDERS: JSON.stringify(fields.imageProviders) },
    );
    applyCatalogOverride(
      DEFAULT_IMAGE_CATALOG,
      fields.imageCatalog ?? {},
      new Set(configs.keys()),
      'imageCatalog',
    );
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${source}: ${err.message}`);
    throw err;
  }
}
