// The browser API's environment (sessions and uploads functions, and the local dev server) as
// typed configuration: read once at start, validated once, with errors that name the variable.

import { z } from 'zod';
import type { BrowserAuthConfig, BrowserRateLimits } from '../auth/types';
import { blankToUndefined, choiceVar, type Env, intVar, readEnv } from '../env-vars';
import { ConfigError } from '../errors';
import { type ImageGenConfig, loadImageGenConfig } from '../imagegen/config';
import type { ImageLimits } from '../images/limits';
import { DEFAULT_MAX_UPLOAD_BYTES, imageEnvShape, imageLimitsFrom } from '../images/limits-env';
import type { BudgetLimits } from '../limits/budget';
import { loadSessionBudgetLimits } from '../limits/budget-config';
import { DEFAULT_MAX_IMAGES_PER_SESSION } from '../sessions/store';

export interface BrowserApiConfig {
  /** IMAGE_GENERATION and its settings: the generations routes (sessions function). */
  imageGeneration: ImageGenConfig;
  /** The session budget (as chat's): a browser's image request is refused once it is spent. */
  sessionBudget: BudgetLimits;
  sessionsTable: string;
  controlTable: string;
  imagesBucket: string;
  /** AWS_REGION; the SDK's own resolution when unset. */
  region?: string;
  /** Local emulators (AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_S3); unset on AWS. */
  endpoints: { dynamodb?: string; s3?: string };
  sessionTtlSeconds: number;
  /**
   * Base URL of the uploads API, told to browsers. Unset when sessions and uploads share one
   * origin (the local dev server): browsers then get a path.
   */
  uploadsUrl?: string;
  /** Present only when both the API key and the agent id are configured. */
  elevenLabs?: { apiKey: string; agentId: string; baseUrl?: string };
  auth: BrowserAuthConfig;
  rateLimits: BrowserRateLimits;
  /** Largest raw upload or fetched image, in bytes (413 above). */
  maxUploadBytes: number;
  /** Largest inline data-URI image, in decoded bytes. */
  maxInlineBytes: number;
  maxImagesPerSession: number;
  imageLimits: ImageLimits;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export const BROWSER_API_DEFAULTS = {
  sessionTtlSeconds: 3600,
  maxUploadBytes: DEFAULT_MAX_UPLOAD_BYTES,
  // Inline images ride in a JSON body, and function URLs cap bodies at 6 MB.
  maxInlineBytes: 2 * 1024 * 1024,
  sessionsPerMinute: 10,
  uploadsPerMinute: 60,
  uploadsPerSessionPerMinute: 30,
  requestsPerMinute: 120,
} as const;

const optionalText = z.preprocess(blankToUndefined, z.string().trim().optional());
const requiredText = z.preprocess(
  blankToUndefined,
  z.string({ error: 'is required' }).trim().min(1, 'is required'),
);

/** http(s) URL; plain http only for loopback hosts, so a typo cannot ship tokens in clear text. */
function secureUrl(what: string) {
  return z.preprocess(
    blankToUndefined,
    z
      .url({ error: `must be an absolute URL (${what})` })
      .refine((raw) => {
        const u = new URL(raw);
        return (
          u.protocol === 'https:' ||
          (u.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname))
        );
      }, 'must use https:// (http:// only for localhost)')
      .optional(),
  );
}

const originList = z.preprocess(
  (v) =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
      : [],
  z.array(
    z.string().refine((o) => {
      try {
        const u = new URL(o);
        return (u.protocol === 'https:' || u.protocol === 'http:') && u.origin === o;
      } catch {
        return false;
      }
    }, 'each origin must be scheme://host[:port] with no path or trailing slash, e.g. https://app.example.com'),
  ),
);

const envShape = {
  SESSIONS_TABLE: requiredText,
  CONTROL_TABLE: requiredText,
  IMAGES_BUCKET: requiredText,
  AWS_REGION: optionalText,
  AWS_ENDPOINT_URL_DYNAMODB: z.preprocess(
    blankToUndefined,
    z.url({ error: 'must be an absolute URL' }).optional(),
  ),
  AWS_ENDPOINT_URL_S3: z.preprocess(blankToUndefined, z.url({ error: 'must be an absolute URL' }).optional()),
  SESSION_TTL_SECONDS: intVar(BROWSER_API_DEFAULTS.sessionTtlSeconds, 60, 7 * 24 * 3600),
  UPLOADS_URL: z.preprocess(blankToUndefined, z.url({ error: 'must be an absolute URL' }).optional()),
  ELEVENLABS_API_KEY: optionalText,
  ELEVENLABS_AGENT_ID: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be an agent id such as agent_...')
      .optional(),
  ),
  ELEVENLABS_BASE_URL: secureUrl('the ElevenLabs API host'),
  AUTH_MODE: z.preprocess(
    blankToUndefined,
    z.enum(['jwt', 'anonymous'], {
      error:
        'must be "jwt" (verify a Bearer JWT) or "anonymous" (explicit opt-in: allowed origins + per-IP limits)',
    }),
  ),
  ALLOWED_ORIGINS: originList,
  JWT_ISSUER: optionalText,
  JWT_AUDIENCE: optionalText,
  JWT_JWKS_URL: secureUrl('the identity provider JWKS'),
  ...imageEnvShape,
  MAX_INLINE_IMAGE_BYTES: intVar(BROWSER_API_DEFAULTS.maxInlineBytes, 1024, 4 * 1024 * 1024),
  MAX_IMAGES_PER_SESSION: intVar(DEFAULT_MAX_IMAGES_PER_SESSION, 1, 1000),
  RATE_LIMIT_SESSIONS_PER_IP_PER_MINUTE: intVar(BROWSER_API_DEFAULTS.sessionsPerMinute, 1, 100_000),
  RATE_LIMIT_UPLOADS_PER_IP_PER_MINUTE: intVar(BROWSER_API_DEFAULTS.uploadsPerMinute, 1, 100_000),
  RATE_LIMIT_UPLOADS_PER_SESSION_PER_MINUTE: intVar(
    BROWSER_API_DEFAULTS.uploadsPerSessionPerMinute,
    1,
    100_000,
  ),
  RATE_LIMIT_REQUESTS_PER_IP_PER_MINUTE: intVar(BROWSER_API_DEFAULTS.requestsPerMinute, 1, 100_000),
  LOG_LEVEL: choiceVar(['debug', 'info', 'warn', 'error'], 'info'),
};

type ParsedEnv = ReturnType<typeof readEnv<typeof envShape>>;

function authConfig(env: ParsedEnv): BrowserAuthConfig {
  if (env.AUTH_MODE === 'anonymous') {
    if (env.ALLOWED_ORIGINS.length === 0) {
      throw new ConfigError(
        'AUTH_MODE=anonymous needs ALLOWED_ORIGINS (comma-separated), or no browser could call',
      );
    }
    return { mode: 'anonymous', allowedOrigins: env.ALLOWED_ORIGINS };
  }
  const missing = (['JWT_ISSUER', 'JWT_AUDIENCE', 'JWT_JWKS_URL'] as const).filter(
    (k) => env[k] === undefined,
  );
  if (missing.length > 0) throw new ConfigError(`AUTH_MODE=jwt needs ${missing.join(', ')}`);
  return {
    mode: 'jwt',
    issuer: env.JWT_ISSUER!,
    audience: env.JWT_AUDIENCE!,
    jwksUrl: env.JWT_JWKS_URL!,
    allowedOrigins: env.ALLOWED_ORIGINS,
  };
}

export function loadBrowserApiConfig(env: Env): BrowserApiConfig {
  const e = readEnv(envShape, env);
  return {
    imageGeneration: loadImageGenConfig(env),
    sessionBudget: loadSessionBudgetLimits(env),
    sessionsTable: e.SESSIONS_TABLE,
    controlTable: e.CONTROL_TABLE,
    imagesBucket: e.IMAGES_BUCKET,
    ...(e.AWS_REGION ? { region: e.AWS_REGION } : {}),
    endpoints: {
      ...(e.AWS_ENDPOINT_URL_DYNAMODB ? { dynamodb: e.AWS_ENDPOINT_URL_DYNAMODB } : {}),
      ...(e.AWS_ENDPOINT_URL_S3 ? { s3: e.AWS_ENDPOINT_URL_S3 } : {}),
    },
    sessionTtlSeconds: e.SESSION_TTL_SECONDS,
    ...(e.UPLOADS_URL ? { uploadsUrl: e.UPLOADS_URL.replace(/\/+$/, '') } : {}),
    ...(e.ELEVENLABS_API_KEY && e.ELEVENLABS_AGENT_ID
      ? {
          elevenLabs: {
            apiKey: e.ELEVENLABS_API_KEY,
            agentId: e.ELEVENLABS_AGENT_ID,
            ...(e.ELEVENLABS_BASE_URL ? { baseUrl: e.ELEVENLABS_BASE_URL } : {}),
          },
        }
      : {}),
    auth: authConfig(e),
    rateLimits: {
      sessionsPerMinute: e.RATE_LIMIT_SESSIONS_PER_IP_PER_MINUTE,
      uploadsPerMinute: e.RATE_LIMIT_UPLOADS_PER_IP_PER_MINUTE,
      uploadsPerSessionPerMinute: e.RATE_LIMIT_UPLOADS_PER_SESSION_PER_MINUTE,
      requestsPerMinute: e.RATE_LIMIT_REQUESTS_PER_IP_PER_MINUTE,
    },
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    // An inline image is never allowed more than an uploaded one.
    maxInlineBytes: Math.min(e.MAX_INLINE_IMAGE_BYTES, e.MAX_UPLOAD_BYTES),
    maxImagesPerSession: e.MAX_IMAGES_PER_SESSION,
    imageLimits: imageLimitsFrom(e),
    logLevel: e.LOG_LEVEL,
  };
}
