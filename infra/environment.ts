// The environment each function starts with: resource names, secret ARNs (never values) and the
// stage's settings. Kept pure and in one place so the contract with functions/ is easy to read.
import type { StageConfig } from './stage-config';

export type FunctionName = 'chat' | 'sessions' | 'uploads' | 'generate';

/** Names (or tokens resolving to them) of the resources the functions use. */
export interface ResourceRefs {
  sessionsTable: string;
  controlTable: string;
  bucket: string;
  llmSecretArn: string;
  elevenLabsSecretArn: string;
  /** Image provider keys (and OpenAI's for moderation): read by chat, sessions and generate. */
  imageSecretArn: string;
}

export type FunctionEnvironment = Record<string, string>;

/** Lambda caps a function's environment at 4 KB; leave room for ARNs and names. */
export const MAX_CONFIG_ENV_BYTES = 3000;

function common(config: StageConfig, refs: ResourceRefs): FunctionEnvironment {
  return {
    STAGE: config.stage,
    SESSIONS_TABLE: refs.sessionsTable,
    CONTROL_TABLE: refs.controlTable,
    IMAGES_BUCKET: refs.bucket,
    LOG_LEVEL: config.logLevel,
    // No --enable-source-maps: Node then parses every loaded chunk's map at load and maps each
    // stack it formats, which cost the chat function ~170 ms on its first request and 11-57 ms
    // on the next one (bench/coldstart.ts). The maps ship next to the chunks for offline decoding.
  };
}

/**
 * The image limits, for every function that normalizes images (uploads, and chat for images
 * inside messages): one source, so both accept the same images (shared/images/limits-env.ts).
 */
function imageEnvironment(config: StageConfig): FunctionEnvironment {
  const { limits } = config;
  return {
    MAX_UPLOAD_BYTES: String(limits.maxUploadBytes),
    IMAGE_MAX_LONG_EDGE: String(limits.imageMaxLongEdge),
    IMAGE_MAX_PIXELS: String(limits.imageMaxPixels),
  };
}

/**
 * What both browser-facing functions read (they share one config loader): origins and auth,
 * session lifetime, upload and image limits, per-IP rate limits.
 */
function browserEnvironment(config: StageConfig, refs: ResourceRefs): FunctionEnvironment {
  const { auth, limits } = config;
  return {
    ...common(config, refs),
    ALLOWED_ORIGINS: config.allowedOrigins.join(','),
    AUTH_MODE: auth.mode,
    JWT_ISSUER: auth.mode === 'jwt' ? auth.issuer : '',
    JWT_AUDIENCE: auth.mode === 'jwt' ? auth.audience : '',
    JWT_JWKS_URL: auth.mode === 'jwt' ? auth.jwksUrl : '',
    SESSION_TTL_SECONDS: String(limits.sessionTtlSeconds),
    ...imageEnvironment(config),
    ...(limits.maxImagesPerSession !== undefined
      ? { MAX_IMAGES_PER_SESSION: String(limits.maxImagesPerSession) }
      : {}),
    RATE_LIMIT_SESSIONS_PER_IP_PER_MINUTE: String(limits.rateLimits.sessionsPerIpPerMinute),
    RATE_LIMIT_UPLOADS_PER_IP_PER_MINUTE: String(limits.rateLimits.uploadsPerIpPerMinute),
    RATE_LIMIT_REQUESTS_PER_IP_PER_MINUTE: String(limits.rateLimits.requestsPerIpPerMinute),
  };
}

export function chatEnvironment(config: StageConfig, refs: ResourceRefs): FunctionEnvironment {
  return {
    ...common(config, refs),
    ...imageEnvironment(config),
    LLM_SECRET_ARN: refs.llmSecretArn,
    // Empty means "not configured": the chat config then routes to the first keyed provider.
    MODEL_ROUTES: config.modelRoutes ? JSON.stringify(config.modelRoutes) : '',
    COMPATIBLE_PROVIDERS: config.compatibleProviders ? JSON.stringify(config.compatibleProviders) : '',
    // Deployed chat functions always demand the bearer key; only the local dev host may run open.
    REQUIRE_CHAT_API_KEY: 'true',
    // The keyless echo provider stays off in deployed stacks unless the stage opts in.
    ALLOW_ECHO: config.allowEcho ? 'true' : 'false',
  };
}

/** What the functions that ask for images (chat, sessions) and the one that makes them share. */
function imageGenerationEnvironment(config: StageConfig, refs: ResourceRefs): FunctionEnvironment {
  const g = config.imageGeneration;
  return {
    IMAGE_GENERATION: g.enabled ? 'true' : 'false',
    IMAGE_SECRET_ARN: refs.imageSecretArn,
    IMAGE_AUTO_APPROVE_USD: String(g.autoApproveUsd),
    IMAGE_LIMIT_PER_SESSION: String(g.perSession),
    IMAGE_LIMIT_PER_USER_PER_HOUR: String(g.perUserPerHour),
    IMAGE_MAX_USD_PER_USER_PER_DAY: String(g.maxUsdPerUserPerDay),
  };
}

/** The generate function: storage, image limits (its images are normalized like uploads), image keys. */
export function generateEnvironment(config: StageConfig, refs: ResourceRefs): FunctionEnvironment {
  const { limits } = config;
  return {
    ...common(config, refs),
    ...imageGenerationEnvironment(config, refs),
    MAX_UPLOAD_BYTES: String(limits.maxUploadBytes),
    IMAGE_MAX_LONG_EDGE: String(limits.imageMaxLongEdge),
    IMAGE_MAX_PIXELS: String(limits.imageMaxPixels),
  };
}

/** Chat and sessions start generation jobs by invoking the generate function by name. */
export function withImageGeneration(
  env: FunctionEnvironment,
  config: StageConfig,
  refs: ResourceRefs,
  generateFunctionName: string,
): FunctionEnvironment {
  return {
    ...env,
    ...imageGenerationEnvironment(config, refs),
    GENERATE_FUNCTION_NAME: generateFunctionName,
  };
}

/** `uploadsUrl` is the uploads function URL, which the sessions function tells browsers. */
export function sessionsEnvironment(
  config: StageConfig,
  refs: ResourceRefs,
  uploadsUrl: string,
): FunctionEnvironment {
  return {
    ...browserEnvironment(config, refs),
    ELEVENLABS_SECRET_ARN: refs.elevenLabsSecretArn,
    ELEVENLABS_AGENT_ID: config.elevenLabsAgentId ?? '',
    UPLOADS_URL: uploadsUrl,
  };
}

/** Like sessions, minus everything ElevenLabs: this function never sees that key. */
export function uploadsEnvironment(config: StageConfig, refs: ResourceRefs): FunctionEnvironment {
  return browserEnvironment(config, refs);
}

/**
 * Bytes the stage file itself puts into environments (routes, providers, origins, auth). Checked
 * at synth so an oversized MODEL_ROUTES fails here, not as a CloudFormation error mid-deploy.
 */
export function configEnvironmentBytes(config: StageConfig): number {
  const parts = [
    config.modelRoutes ? JSON.stringify(config.modelRoutes) : '',
    config.compatibleProviders ? JSON.stringify(config.compatibleProviders) : '',
    config.allowedOrigins.join(','),
    config.auth.mode === 'jwt' ? config.auth.issuer + config.auth.audience + config.auth.jwksUrl : '',
  ];
  return parts.reduce((sum, p) => sum + Buffer.byteLength(p, 'utf8'), 0);
}
