// Which image providers exist and how to reach them, read once from the environment: the
// built-in ones (OpenAI, Google, Together, Replicate, echo) and any OpenAI-compatible images
// endpoint named in IMAGE_PROVIDERS, like the chat providers' COMPATIBLE_PROVIDERS.
import { z } from 'zod';
import type { Env } from '../env-vars';
import { ConfigError } from '../errors';
import type { ImageProviderKind } from './types';

export interface ImageProviderConfig {
  name: string;
  kind: ImageProviderKind;
  apiKey?: string;
  baseURL?: string;
  /** Switched off by configuration (echo in a deployed stack). */
  disabled?: boolean;
}

/** Gemini's OpenAI-compatible endpoint, the same one the chat provider `gemini` uses. */
export const GOOGLE_IMAGES_BASE_URL = 'https://generativelanguage.googleapis.com/v1beta/openai/';
export const TOGETHER_BASE_URL = 'https://api.together.xyz/v1';
export const REPLICATE_BASE_URL = 'https://api.replicate.com/v1';

const BUILT_IN = new Set(['openai', 'google', 'together', 'replicate', 'echo']);

const compatibleSchema = z.record(
  z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'provider names are letters, digits, "-" and "_"'),
  z
    .object({
      baseURL: z.url(),
      /** Name of the variable (or secret key) that holds this provider's API key. */
      apiKeyEnv: z.string().optional(),
    })
    .strict(),
);

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

export function loadImageProviderConfigs(env: Env): Map<string, ImageProviderConfig> {
  const out = new Map<string, ImageProviderConfig>();
  const add = (p: ImageProviderConfig) => out.set(p.name, p);
  add({
    name: 'openai',
    kind: 'openai',
    apiKey: nonEmpty(env.OPENAI_API_KEY),
    baseURL: nonEmpty(env.OPENAI_BASE_URL),
  });
  // The chat provider's key and base URL: one Gemini key serves both.
  add({
    name: 'google',
    kind: 'google',
    apiKey: nonEmpty(env.GEMINI_API_KEY),
    baseURL: nonEmpty(env.GEMINI_BASE_URL) ?? GOOGLE_IMAGES_BASE_URL,
  });
  add({
    name: 'together',
    kind: 'together',
    apiKey: nonEmpty(env.TOGETHER_API_KEY),
    baseURL: nonEmpty(env.TOGETHER_BASE_URL) ?? TOGETHER_BASE_URL,
  });
  add({
    name: 'replicate',
    kind: 'replicate',
    apiKey: nonEmpty(env.REPLICATE_API_TOKEN),
    baseURL: nonEmpty(env.REPLICATE_BASE_URL) ?? REPLICATE_BASE_URL,
  });
  // As for chat: a deployed stack (REQUIRE_CHAT_API_KEY=true) never draws with echo unless
  // ALLOW_ECHO=true says so.
  const deployed = env.REQUIRE_CHAT_API_KEY === 'true';
  add({ name: 'echo', kind: 'echo', disabled: deployed && env.ALLOW_ECHO !== 'true' });

  const raw = nonEmpty(env.IMAGE_PROVIDERS);
  if (raw) {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (err) {
      throw new ConfigError(`IMAGE_PROVIDERS is not valid JSON: ${(err as Error).message}`);
    }
    const parsed = compatibleSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ConfigError(
        `IMAGE_PROVIDERS is invalid at ${issue.path.join('.') || '(root)'}: ${issue.message}`,
      );
    }
    for (const [name, spec] of Object.entries(parsed.data)) {
      if (BUILT_IN.has(name))
        throw new ConfigError(`IMAGE_PROVIDERS: "${name}" is a built-in image provider name`);
      add({
        name,
        kind: 'compatible',
        apiKey: spec.apiKeyEnv ? nonEmpty(env[spec.apiKeyEnv]) : undefined,
        baseURL: spec.baseURL,
      });
    }
  }
  return out;
}

/** Whether a provider can be called: a key, or (compatible servers) a base URL; echo always. */
export function isImageProviderConfigured(p: ImageProviderConfig): boolean {
  if (p.disabled) return false;
  if (p.kind === 'echo') return true;
  if (p.kind === 'compatible') return p.baseURL !== undefined;
  return p.apiKey !== undefined;
}
