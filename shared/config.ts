// The chat function's configuration: its environment (and the LLM secret overlaid on it) read
// once at the composition root, validated once with errors that name the variable, then passed
// in; nothing past loadConfig reads the environment. (The browser functions' is sessions/config.ts.)

import { z } from 'zod';
import { boolVar, choiceVar, type Env, intVar, jsonVar, readEnv, textVar } from './env-vars';
import { ConfigError } from './errors';
import { type ImageGenConfig, loadImageGenConfig } from './imagegen/config';
import type { ImageLimits } from './images/limits';
import { imageEnvShape, imageLimitsFrom } from './images/limits-env';
import { loadSessionBudgetLimits } from './limits/budget-config';
import type { ProviderKind } from './providers/types';
import { parseRoutes, type Routes } from './routing/routes';

export interface ProviderConfig {
  name: string;
  kind: ProviderKind;
  apiKey?: string;
  baseURL?: string;
  /** How session images reach this provider unless a route target says otherwise. */
  imageDelivery: 'inline' | 'url';
  /** Switched off by configuration (echo in a deployed stack). */
  disabled?: boolean;
}

export interface Config {
  /** Shared secret ElevenLabs sends as `Authorization: Bearer ...`; unset = open (local only). */
  chatApiKey: string | undefined;
  providers: ReadonlyMap<string, ProviderConfig>;
  routes: Routes;
  /** True when no provider key is configured and the echo provider answers everything. */
  echoFallback: boolean;
  /** Largest accepted request body, in bytes (413 above). */
  maxBodyBytes: number;
  /** Milliseconds the local host waits for a whole request body before answering 408. */
  bodyReadTimeoutMs: number;
  /** One live turn per conversation: a newer turn of a conversation stops the older one. */
  liveTurns: { enabled: boolean; pollMs: number };
  /** Default milliseconds to wait for an upstream's first event (per target overridable). */
  firstByteTimeoutMs: number;
  /** Upper bound on one upstream request, first byte to last. */
  upstreamTimeoutMs: number;
  /** How the provider SDKs reach upstreams: node:http (default, faster) or the runtime's fetch. */
  upstreamHttp: 'node' | 'fetch';
  /** Default max_tokens sent to Anthropic when the client sets none (Anthropic requires one). */
  anthropicDefaultMaxTokens: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  port: number;
  /** A deployed stack: the chat key is mandatory and echo is off unless ALLOW_ECHO=true. */
  deployed: boolean;
  stage: string;
  storage: StorageConfig;
  /** Per-session spend caps (unset = unlimited). */
  sessionBudget: { maxTokens?: number; maxCostUsd?: number };
  /** JSON price overrides (USD per million tokens), merged over the built-in catalog. */
  modelPricesJson: string | undefined;
  /** Images inside messages and session images: the same limits as the uploads function. */
  images: ChatImageSettings;
  /** IMAGE_GENERATION and its settings: the generate_image tool (shared/imagegen/config.ts). */
  imageGeneration: ImageGenConfig;
}

export interface ChatImageSettings {
  /** MAX_UPLOAD_BYTES and IMAGE_MAX_*: the variables and defaults the uploads function reads. */
  limits: ImageLimits;
  /** In-memory cache of normalized image bytes, per container (IMAGE_CACHE_BYTES). */
  cacheBytes: number;
  /** How long fetching an image URL inside a message may take (IMAGE_URL_TIMEOUT_MS). */
  urlFetchTimeoutMs: number;
}

export interface StorageConfig {
  region: string | undefined;
  sessionsTable: string | undefined;
  controlTable: string | undefined;
  imagesBucket: string | undefined;
  /** Local emulators (dynalite, s3rver); unset on AWS. */
  dynamoEndpoint: string | undefined;
  s3Endpoint: string | undefined;
}

const storageEnvShape = {
  AWS_REGION: textVar,
  AWS_DEFAULT_REGION: textVar,
  SESSIONS_TABLE: textVar,
  CONTROL_TABLE: textVar,
  IMAGES_BUCKET: textVar,
  AWS_ENDPOINT_URL_DYNAMODB: textVar,
  AWS_ENDPOINT_URL_S3: textVar,
};

export function loadStorageConfig(env: Env): StorageConfig {
  const e = readEnv(storageEnvShape, env);
  return {
    region: e.AWS_REGION ?? e.AWS_DEFAULT_REGION,
    sessionsTable: e.SESSIONS_TABLE,
    controlTable: e.CONTROL_TABLE,
    imagesBucket: e.IMAGES_BUCKET,
    dynamoEndpoint: e.AWS_ENDPOINT_URL_DYNAMODB,
    s3Endpoint: e.AWS_ENDPOINT_URL_S3,
  };
}

/**
 * A chat body is at most MAX_BODY_BYTES (20 MiB): 10 s admits it at 2 MB/s, and ElevenLabs sends
 * turns of a few KB from a datacenter. A body slower than that is a stuck or hostile client.
 */
export const DEFAULT_BODY_READ_TIMEOUT_MS = 10_000;

export const GEMINI_OPENAI_BASE_URL = 'https://generativelanguage.googleapis.com/v1beta/openai/';

const compatibleSchema = z.record(
  z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'provider names are letters, digits, "-" and "_"'),
  z
    .object({
      baseURL: z.url(),
      /** Name of the variable (or secret key) that holds this provider's API key. */
      apiKeyEnv: z.string().optional(),
      imageDelivery: z.enum(['inline', 'url']).optional(),
    })
    .strict(),
);

const RESERVED = new Set(['openai', 'anthropic', 'gemini', 'echo']);

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

export function loadProviders(env: Env): Map<string, ProviderConfig> {
  const providers = new Map<string, ProviderConfig>();
  const add = (p: ProviderConfig) => providers.set(p.name, p);
  // OpenAI fetches https image URLs itself; Anthropic and Gemini get bytes inline by default
  // (Gemini's compat endpoint is not documented to fetch URLs; inline is always safe).
  add({
    name: 'openai',
    kind: 'openai',
    apiKey: nonEmpty(env.OPENAI_API_KEY),
    baseURL: nonEmpty(env.OPENAI_BASE_URL),
    imageDelivery: 'inline',
  });
  add({
    name: 'anthropic',
    kind: 'anthropic',
    apiKey: nonEmpty(env.ANTHROPIC_API_KEY),
    baseURL: nonEmpty(env.ANTHROPIC_BASE_URL),
    imageDelivery: 'inline',
  });
  add({
    name: 'gemini',
    kind: 'compatible',
    apiKey: nonEmpty(env.GEMINI_API_KEY),
    baseURL: nonEmpty(env.GEMINI_BASE_URL) ?? GEMINI_OPENAI_BASE_URL,
    imageDelivery: 'inline',
  });
  add({ name: 'echo', kind: 'echo', imageDelivery: 'inline' });

  const { COMPATIBLE_PROVIDERS: compatible } = readEnv(
    { COMPATIBLE_PROVIDERS: jsonVar(compatibleSchema) },
    env,
  );
  if (compatible) {
    for (const [name, spec] of Object.entries(compatible)) {
      if (RESERVED.has(name))
        throw new ConfigError(`COMPATIBLE_PROVIDERS: "${name}" is a built-in provider name`);
      add({
        name,
        kind: 'compatible',
        apiKey: spec.apiKeyEnv ? nonEmpty(env[spec.apiKeyEnv]) : undefined,
        baseURL: spec.baseURL,
        imageDelivery: spec.imageDelivery ?? 'inline',
      });
    }
  }
  return providers;
}

/** Whether a provider can be called: a key, or (compatible servers such as Ollama) a base URL. */
export function isProviderConfigured(p: ProviderConfig): boolean {
  if (p.disabled) return false;
  if (p.kind === 'echo') return true;
  if (p.kind === 'compatible' && p.name !== 'gemini') return p.baseURL !== undefined;
  return p.apiKey !== undefined;
}

/**
 * Without MODEL_ROUTES, every model name goes to the first keyed provider among openai,
 * anthropic, gemini, with the requested model name passed through; with no key at all,
 * to the echo provider.
 */
function defaultRoutesJson(providers: Map<string, ProviderConfig>): { json: string; echo: boolean } {
  for (const name of ['openai', 'anthropic', 'gemini']) {
    const p = providers.get(name);
    if (p && isProviderConfigured(p)) return { json: JSON.stringify({ '*': [`${name}:*`] }), echo: false };
  }
  return { json: JSON.stringify({ '*': ['echo:echo'] }), echo: true };
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** The chat function's scalar variables (providers and routes are read below). */
const chatEnvShape = {
  REQUIRE_CHAT_API_KEY: boolVar(false),
  ALLOW_ECHO: boolVar(false),
  MODEL_ROUTES: textVar,
  CHAT_API_KEY: textVar,
  MAX_BODY_BYTES: intVar(20 * 1024 * 1024, 1, MAX_SAFE),
  BODY_READ_TIMEOUT_MS: intVar(DEFAULT_BODY_READ_TIMEOUT_MS, 1, MAX_SAFE),
  SUPERSEDE_TURNS: boolVar(true),
  LIVE_TURN_POLL_MS: intVar(250, 0, MAX_SAFE),
  FIRST_BYTE_TIMEOUT_MS: intVar(8000, 1, MAX_SAFE),
  UPSTREAM_TIMEOUT_MS: intVar(120_000, 1, MAX_SAFE),
  UPSTREAM_HTTP: choiceVar(['node', 'fetch'], 'node'),
  ANTHROPIC_DEFAULT_MAX_TOKENS: intVar(1024, 1, MAX_SAFE),
  LOG_LEVEL: choiceVar(['debug', 'info', 'warn', 'error'], 'info'),
  PORT: intVar(8787, 0, 65_535),
  STAGE: textVar,
  MODEL_PRICES: textVar,
  ...imageEnvShape,
  IMAGE_CACHE_BYTES: intVar(64 * 1024 * 1024, 1, MAX_SAFE),
  IMAGE_URL_TIMEOUT_MS: intVar(5000, 1, MAX_SAFE),
};

export function loadConfig(env: Env): Config {
  const e = readEnv(chatEnvShape, env);
  const deployed = e.REQUIRE_CHAT_API_KEY;
  const providers = loadProviders(env);
  if (deployed && !e.ALLOW_ECHO) providers.set('echo', { ...providers.get('echo')!, disabled: true });
  const fallback = e.MODEL_ROUTES ? undefined : defaultRoutesJson(providers);
  const routes = parseRoutes(e.MODEL_ROUTES ?? fallback!.json, new Set(providers.keys()));
  return {
    chatApiKey: e.CHAT_API_KEY,
    providers,
    routes,
    echoFallback: fallback?.echo ?? false,
    maxBodyBytes: e.MAX_BODY_BYTES,
    bodyReadTimeoutMs: e.BODY_READ_TIMEOUT_MS,
    liveTurns: { enabled: e.SUPERSEDE_TURNS, pollMs: e.LIVE_TURN_POLL_MS },
    firstByteTimeoutMs: e.FIRST_BYTE_TIMEOUT_MS,
    upstreamTimeoutMs: e.UPSTREAM_TIMEOUT_MS,
    upstreamHttp: e.UPSTREAM_HTTP,
    anthropicDefaultMaxTokens: e.ANTHROPIC_DEFAULT_MAX_TOKENS,
    logLevel: e.LOG_LEVEL,
    port: e.PORT,
    deployed,
    stage: e.STAGE ?? 'local',
    storage: loadStorageConfig(env),
    sessionBudget: loadSessionBudgetLimits(env),
    modelPricesJson: e.MODEL_PRICES,
    imageGeneration: loadImageGenConfig(env),
    images: {
      // The same variables, rules and defaults as the uploads function: both accept the same images.
      limits: imageLimitsFrom(e),
      cacheBytes: e.IMAGE_CACHE_BYTES,
      urlFetchTimeoutMs: e.IMAGE_URL_TIMEOUT_MS,
    },
  };
}
