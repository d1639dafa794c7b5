// Image generation's environment as typed configuration, read once at start by whoever composes
// it (chat, sessions and generate functions, the dev server) and validated with messages that
// name the variable.
import { z } from 'zod';
import { blankToUndefined, type Env, intVar, readEnv } from '../env-vars';
import { ConfigError } from '../errors';
import { loadImageCatalog } from './catalog';
import { DEFAULT_IMAGE_RUN_SETTINGS, type ImageRunSettings } from './policy';
import { loadImageProviderConfigs } from './provider-config';

export interface ImageGenConfig {
  /** IMAGE_GENERATION: the tool is offered and the browser API answers. */
  enabled: boolean;
  /** At or below this estimate a generation starts without asking. */
  autoApproveUsd: number;
  /** An unconfirmed generation expires after this. */
  confirmTtlSeconds: number;
  /** Generations one session may queue over its life. */
  perSession: number;
  /** Generations one user may queue per hour. */
  perUserPerHour: number;
  /** US dollars (at the estimate) one user may commit per day. */
  maxUsdPerUserPerDay: number;
  /** One generation's whole job (every provider attempt), in ms; the function's timeout is longer. */
  jobTimeoutMs: number;
  /** A queued generation no job claims within this is failed. */
  queuedTimeoutMs: number;
  /** Prompt moderation: 'openai' (its moderation endpoint, with OPENAI_API_KEY) or 'off'. */
  moderation: 'openai' | 'off';
  moderationModel: string;
  /** AWS: the generation function the chat and sessions functions invoke (unset locally: in-process). */
  functionName?: string;
  /** Prompts are written to logs only at LOG_LEVEL=debug. */
  logPrompts: boolean;
  /** The image providers, the catalog and the run settings (shared/imagegen/setup.ts). */
  generator: ImageGeneratorSettings;
  /** OPENAI_API_KEY / OPENAI_BASE_URL, for prompt moderation. */
  openai?: { apiKey: string; baseURL?: string };
  /** AWS_REGION / AWS_ENDPOINT_URL_LAMBDA: where the generate function is invoked. */
  lambda: { region?: string; endpoint?: string };
}

export const IMAGE_GEN_DEFAULTS = {
  autoApproveUsd: 0.02,
  confirmTtlSeconds: 600,
  perSession: 20,
  perUserPerHour: 10,
  maxUsdPerUserPerDay: 2,
  jobTimeoutMs: 120_000,
  queuedTimeoutMs: 5 * 60_000,
} as const;

const usd = (fallback: number, max: number) =>
  z.preprocess(
    blankToUndefined,
    z.coerce
      .number({ error: 'must be a number of US dollars' })
      .min(0, 'must be at least 0')
      .max(max, `must be at most ${max}`)
      .default(fallback),
  );

const vars = {
  IMAGE_GENERATION: z.preprocess(
    blankToUndefined,
    z.enum(['true', 'false', 'on', 'off', '1', '0'], { error: 'must be true or false' }).default('false'),
  ),
  IMAGE_AUTO_APPROVE_USD: usd(IMAGE_GEN_DEFAULTS.autoApproveUsd, 10),
  IMAGE_CONFIRM_TTL_SECONDS: intVar(IMAGE_GEN_DEFAULTS.confirmTtlSeconds, 30, 24 * 3600),
  IMAGE_LIMIT_PER_SESSION: intVar(IMAGE_GEN_DEFAULTS.perSession, 0, 10_000),
  IMAGE_LIMIT_PER_USER_PER_HOUR: intVar(IMAGE_GEN_DEFAULTS.perUserPerHour, 0, 100_000),
  IMAGE_MAX_USD_PER_USER_PER_DAY: usd(IMAGE_GEN_DEFAULTS.maxUsdPerUserPerDay, 100_000),
  IMAGE_JOB_TIMEOUT_MS: intVar(IMAGE_GEN_DEFAULTS.jobTimeoutMs, 1000, 14 * 60_000),
  IMAGE_QUEUED_TIMEOUT_MS: intVar(IMAGE_GEN_DEFAULTS.queuedTimeoutMs, 1000, 24 * 3600_000),
  IMAGE_MODERATION: z.preprocess(
    blankToUndefined,
    z.enum(['openai', 'off'], { error: 'must be "openai" or "off"' }).optional(),
  ),
  IMAGE_MODERATION_MODEL: z.preprocess(blankToUndefined, z.string().trim().default('omni-moderation-latest')),
  OPENAI_API_KEY: z.preprocess(blankToUndefined, z.string().optional()),
  GENERATE_FUNCTION_NAME: z.preprocess(blankToUndefined, z.string().trim().optional()),
  LOG_LEVEL: z.preprocess(blankToUndefined, z.string().optional()),
  OPENAI_BASE_URL: z.preprocess(blankToUndefined, z.string().trim().optional()),
  AWS_REGION: z.preprocess(blankToUndefined, z.string().trim().optional()),
  AWS_ENDPOINT_URL_LAMBDA: z.preprocess(blankToUndefined, z.string().trim().optional()),
};

export function loadImageGenConfig(env: Env): ImageGenConfig {
  const e = readEnv(vars, env);
  // Moderation defaults to on whenever an OpenAI key is there to call it with.
  const moderation = e.IMAGE_MODERATION ?? (e.OPENAI_API_KEY ? 'openai' : 'off');
  if (moderation === 'openai' && !e.OPENAI_API_KEY)
    throw new ConfigError('IMAGE_MODERATION: "openai" needs OPENAI_API_KEY');
  return {
    enabled: ['true', 'on', '1'].includes(e.IMAGE_GENERATION),
    autoApproveUsd: e.IMAGE_AUTO_APPROVE_USD,
    confirmTtlSeconds: e.IMAGE_CONFIRM_TTL_SECONDS,
    perSession: e.IMAGE_LIMIT_PER_SESSION,
    perUserPerHour: e.IMAGE_LIMIT_PER_USER_PER_HOUR,
    maxUsdPerUserPerDay: e.IMAGE_MAX_USD_PER_USER_PER_DAY,
    jobTimeoutMs: e.IMAGE_JOB_TIMEOUT_MS,
    queuedTimeoutMs: e.IMAGE_QUEUED_TIMEOUT_MS,
    moderation,
    moderationModel: e.IMAGE_MODERATION_MODEL,
    ...(e.GENERATE_FUNCTION_NAME ? { functionName: e.GENERATE_FUNCTION_NAME } : {}),
    logPrompts: e.LOG_LEVEL?.toLowerCase() === 'debug',
    generator: loadImageGeneratorSettings(env),
    ...(e.OPENAI_API_KEY
      ? { openai: { apiKey: e.OPENAI_API_KEY, ...(e.OPENAI_BASE_URL ? { baseURL: e.OPENAI_BASE_URL } : {}) } }
      : {}),
    lambda: {
      ...(e.AWS_REGION ? { region: e.AWS_REGION } : {}),
      ...(e.AWS_ENDPOINT_URL_LAMBDA ? { endpoint: e.AWS_ENDPOINT_URL_LAMBDA } : {}),
    },
  };
}

/** Deadlines of the stored states, from the configuration: a running job is lost well after its own timeout. */
export function generationDeadlines(config: ImageGenConfig): { queuedMs: number; runningMs: number } {
  return { queuedMs: config.queuedTimeoutMs, runningMs: config.jobTimeoutMs + 60_000 };
}

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

/** The generator's typed configuration: providers, catalog and run settings, read once at start. */
export interface ImageGeneratorSettings {
  providers: ReturnType<typeof loadImageProviderConfigs>;
  catalog: ReturnType<typeof loadImageCatalog>;
  run: ImageRunSettings;
}

/** Reads IMAGE_PROVIDERS, the provider keys, IMAGE_CATALOG and the run settings; throws ConfigError naming the variable. */
export function loadImageGeneratorSettings(env: Env): ImageGeneratorSettings {
  const providers = loadImageProviderConfigs(env);
  return {
    providers,
    catalog: loadImageCatalog(env.IMAGE_CATALOG, new Set(providers.keys())),
    run: loadImageRunSettings(env),
  };
}
