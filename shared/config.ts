// The one place where the environment becomes typed configuration. Read once at start,
// validated once, then passed in; nothing deeper reads process.env.
import { z } from 'zod';
import type { ProviderKind } from './providers/types';
import { ConfigError, parseRoutes, type Routes } from './routing/routes';

export { ConfigError };

export type Env = Readonly<Record<string, string | undefined>>;

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

export function loadStorageConfig(env: Env): StorageConfig {
  return {
    region: nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION),
    sessionsTable: nonEmpty(env.SESSIONS_TABLE),
    controlTable: nonEmpty(env.CONTROL_TABLE),
    imagesBucket: nonEmpty(env.IMAGES_BUCKET),
    dynamoEndpoint: nonEmpty(env.AWS_ENDPOINT_URL_DYNAMODB),
    s3Endpoint: nonEmpty(env.AWS_ENDPOINT_URL_S3),
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

function int(env: Env, name: string, fallback: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new ConfigError(`${name} must be an integer >= ${min}, got "${raw}"`);
  return n;
}

function positiveNumber(env: Env, name: string): number {
  const n = Number(env[name]);
  if (!Number.isFinite(n) || n <= 0)
    throw new ConfigError(`${name} must be a positive number, got "${env[name]}"`);
  return n;
}

/** A variable that names one of a few choices (case-insensitive), with its default. */
function oneOf<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const value = (nonEmpty(env[name]) ?? fallback).toLowerCase();
  if (!(choices as readonly string[]).includes(value)) {
    const listed = choices.map((c) => `"${c}"`);
    throw new ConfigError(
      `${name} must be ${listed.slice(0, -1).join(', ')} or ${listed.at(-1)}; got "${env[name]}"`,
    );
  }
  return value as T;
}

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

  const raw = nonEmpty(env.COMPATIBLE_PROVIDERS);
  if (raw) {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (err) {
      throw new ConfigError(`COMPATIBLE_PROVIDERS is not valid JSON: ${(err as Error).message}`);
    }
    const parsed = compatibleSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ConfigError(
        `COMPATIBLE_PROVIDERS is invalid at ${issue.path.join('.') || '(root)'}: ${issue.message}`,
      );
    }
    for (const [name, spec] of Object.entries(parsed.data)) {
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

export function loadConfig(env: Env): Config {
  const deployed = env.REQUIRE_CHAT_API_KEY === 'true';
  const providers = loadProviders(env);
  if (deployed && env.ALLOW_ECHO !== 'true')
    providers.set('echo', { ...providers.get('echo')!, disabled: true });
  const explicit = nonEmpty(env.MODEL_ROUTES);
  const fallback = explicit ? undefined : defaultRoutesJson(providers);
  const routes = parseRoutes(explicit ?? fallback!.json, new Set(providers.keys()));
  return {
    chatApiKey: nonEmpty(env.CHAT_API_KEY),
    providers,
    routes,
    echoFallback: fallback?.echo ?? false,
    maxBodyBytes: int(env, 'MAX_BODY_BYTES', 20 * 1024 * 1024),
    bodyReadTimeoutMs: int(env, 'BODY_READ_TIMEOUT_MS', DEFAULT_BODY_READ_TIMEOUT_MS),
    liveTurns: {
      enabled: oneOf(env, 'SUPERSEDE_TURNS', ['true', 'false'], 'true') === 'true',
      pollMs: int(env, 'LIVE_TURN_POLL_MS', 250, 0),
    },
    firstByteTimeoutMs: int(env, 'FIRST_BYTE_TIMEOUT_MS', 8000),
    upstreamTimeoutMs: int(env, 'UPSTREAM_TIMEOUT_MS', 120_000),
    upstreamHttp: oneOf(env, 'UPSTREAM_HTTP', ['node', 'fetch'], 'node'),
    anthropicDefaultMaxTokens: int(env, 'ANTHROPIC_DEFAULT_MAX_TOKENS', 1024),
    logLevel: oneOf(env, 'LOG_LEVEL', ['debug', 'info', 'warn', 'error'], 'info'),
    port: int(env, 'PORT', 8787, 0),
    deployed,
    stage: nonEmpty(env.STAGE) ?? 'local',
    storage: loadStorageConfig(env),
    sessionBudget: {
      ...(nonEmpty(env.SESSION_MAX_TOKENS) ? { maxTokens: int(env, 'SESSION_MAX_TOKENS', 0) } : {}),
      ...(nonEmpty(env.SESSION_MAX_COST_USD)
        ? { maxCostUsd: positiveNumber(env, 'SESSION_MAX_COST_USD') }
        : {}),
    },
    modelPricesJson: nonEmpty(env.MODEL_PRICES),
  };
}
