// Builds the image generator from the environment, once, at start: the providers
// (provider-config.ts), the catalog (built-in list + IMAGE_CATALOG), the run settings, wired to
// the breaker the caller already has (the chat's persistent one).
import type { Env } from '../env-vars';
import { intVar, readEnv } from '../env-vars';
import { ConfigError } from '../errors';
import type { Logger } from '../observability/log';
import type { FetchLike } from '../providers/http-transport';
import { applyCatalogOverride, DEFAULT_IMAGE_CATALOG, loadImageCatalog } from './catalog';
import { DEFAULT_IMAGE_RUN_SETTINGS, type ImageRunSettings } from './policy';
import { loadImageProviderConfigs } from './provider-config';
import { createImageProviders, type ImageProviderOptions, type ImageProviders } from './providers/registry';
import { createImageGenerator, type ImageGeneratorDeps, type ImageRunner } from './runner';

const runVars = {
  IMAGE_ATTEMPT_TIMEOUT_MS: intVar(DEFAULT_IMAGE_RUN_SETTINGS.attemptTimeoutMs, 1000, 900_000),
  IMAGE_RUN_BUDGET_MS: intVar(DEFAULT_IMAGE_RUN_SETTINGS.budgetMs, 1000, 900_000),
  IMAGE_MAX_RETRY_AFTER_MS: intVar(DEFAULT_IMAGE_RUN_SETTINGS.maxRetryAfterMs, 0, 120_000),
};

/** The run settings from IMAGE_ATTEMPT_TIMEOUT_MS, IMAGE_RUN_BUDGET_MS, IMAGE_MAX_RETRY_AFTER_MS. */
export function loadImageRunSettings(env: Env): ImageRunSettings {
  const vars = readEnv(runVars, env);
  return {
    ...DEFAULT_IMAGE_RUN_SETTINGS,
    attemptTimeoutMs: vars.IMAGE_ATTEMPT_TIMEOUT_MS,
    budgetMs: vars.IMAGE_RUN_BUDGET_MS,
    maxRetryAfterMs: vars.IMAGE_MAX_RETRY_AFTER_MS,
  };
}

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

/** Reads the environment and builds the generator; throws ConfigError naming the variable. */
export function createImageGenerationFromEnv(env: Env, opts: ImageSetupOptions = {}): ImageGenerationSetup {
  const configs = loadImageProviderConfigs(env);
  const catalog = loadImageCatalog(env.IMAGE_CATALOG, new Set(configs.keys()));
  const settings = { ...loadImageRunSettings(env), ...opts.settings };
  const providers = createImageProviders(configs, {
    timeoutMs: settings.attemptTimeoutMs,
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    ...(opts.replicate ? { replicate: opts.replicate } : {}),
  });
  const generator = createImageGenerator({
    catalog,
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
