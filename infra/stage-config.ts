// Per-stage deployment settings: the CDK context names the stage (`-c stage=dev`), and an optional
// `infra/stages/<stage>.json` refines it. Validated once here, with errors that name the file and
// the field, so a typo fails `make synth` instead of a deployed function.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { loadProviders } from '../shared/config';
import { ConfigError } from '../shared/errors';
import { parseRoutes } from '../shared/routing/routes';

/** Lowercase, starts with a letter: it becomes part of the stack name and of derived resource names. */
export const STAGE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;

/** CloudWatch Logs only accepts these retention periods (days). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export const DEFAULT_DEV_ORIGINS = ['http://localhost:5173', 'http://localhost:8787'];

export class StageConfigError extends Error {
  override name = 'StageConfigError';
}

const origin = z.string().refine(isOrigin, {
  message:
    'must be an origin like "https://app.example.com" (scheme and host, optional port; no path, no "*")',
});

const envVarName = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]*$/, 'must be an environment-variable name such as "GROQ_API_KEY"');

const boundedInt = (min: number, max: number) => z.number().int().min(min).max(max);

const authSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('anonymous') }).strict(),
  z
    .object({
      mode: z.literal('jwt'),
      issuer: z.string().min(1, 'is required in jwt mode'),
      audience: z.string().min(1, 'is required in jwt mode'),
      jwksUrl: z.url({ protocol: /^https$/, error: 'must be an https URL' }),
    })
    .strict(),
]);

// Bounds match what the functions accept at start (shared/browser-api/config.ts), so a value the
// function would reject fails here, at synth, instead.
const limitsSchema = z
  .object({
    /** How long a session (and its DynamoDB items) lives. */
    sessionTtlSeconds: boundedInt(300, 7 * 24 * 3600).default(2 * 3600),
    /** S3 lifecycle for normalized images; at least the session TTL, rounded up to whole days. */
    imageRetentionDays: boundedInt(1, 365).optional(),
    maxUploadBytes: boundedInt(1024, 50 * 1024 * 1024).default(10 * 1024 * 1024),
    imageMaxLongEdge: boundedInt(64, 8000).default(1568),
    imageMaxPixels: boundedInt(4096, 64_000_000).default(1_150_000),
    /** Unset: the functions' own default. */
    maxImagesPerSession: boundedInt(1, 1000).optional(),
    rateLimits: z
      .object({
        sessionsPerIpPerMinute: boundedInt(1, 100_000).default(10),
        uploadsPerIpPerMinute: boundedInt(1, 100_000).default(60),
        requestsPerIpPerMinute: boundedInt(1, 100_000).default(120),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

/** `null` leaves the function unreserved (new AWS accounts have too little concurrency to reserve any). */
const concurrency = boundedInt(1, 1000).nullable();

const compatibleProviderSchema = z
  .object({
    baseURL: z.url(),
    apiKeyEnv: envVarName.optional(),
    imageDelivery: z.enum(['inline', 'url']).optional(),
  })
  .strict();

/** What a stage file may contain; every field is optional. */
export const stageFileSchema = z
  .object({
    $schema: z.string().optional(),
    allowedOrigins: z.array(origin).min(1, 'needs at least one origin').optional(),
    elevenLabsAgentId: z.string().min(1).optional(),
    modelRoutes: z.record(z.string(), z.unknown()).optional(),
    compatibleProviders: z.record(z.string(), compatibleProviderSchema).optional(),
    auth: authSchema.optional(),
    limits: limitsSchema,
    reservedConcurrency: z
      .object({
        chat: concurrency.default(50),
        sessions: concurrency.default(10),
        uploads: concurrency.default(10),
        // Bounds what a burst of generations can spend at once (each job holds one environment).
        generate: concurrency.default(5),
      })
      .strict()
      .prefault({}),
    logRetentionDays: z
      .number()
      .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
        message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .default(30),
    logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    removalPolicy: z.enum(['retain', 'destroy']).optional(),
    tracing: z.boolean().default(false),
    /** Lets the keyless echo provider answer in this deployed stage (trying the stack before adding keys). */
    allowEcho: z.boolean().default(false),
    /** Image generation (shared/imagegen): off unless the stage turns it on. */
    imageGeneration: z
      .object({
        enabled: z.boolean().default(false),
        autoApproveUsd: z.number().min(0).max(10).default(0.02),
        perSession: boundedInt(0, 10_000).default(20),
        perUserPerHour: boundedInt(0, 100_000).default(10),
        maxUsdPerUserPerDay: z.number().min(0).max(100_000).default(2),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type AuthConfig = z.infer<typeof authSchema>;

export interface StageConfig {
  stage: string;
  /** Where the settings came from, for messages ("infra/stages/dev.json" or "defaults"). */
  source: string;
  allowedOrigins: string[];
  elevenLabsAgentId: string | undefined;
  modelRoutes: Record<string, unknown> | undefined;
  compatibleProviders: Record<string, z.infer<typeof compatibleProviderSchema>> | undefined;
  auth: AuthConfig;
  limits: {
    sessionTtlSeconds: number;
    imageRetentionDays: number;
    maxUploadBytes: number;
    imageMaxLongEdge: number;
    imageMaxPixels: number;
    maxImagesPerSession: number | undefined;
    rateLimits: {
      sessionsPerIpPerMinute: number;
      uploadsPerIpPerMinute: number;
      requestsPerIpPerMinute: number;
    };
  };
  reservedConcurrency: {
    chat: number | null;
    sessions: number | null;
    uploads: number | null;
    generate: number | null;
  };
  logRetentionDays: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  removalPolicy: 'retain' | 'destroy';
  tracing: boolean;
  allowEcho: boolean;
  imageGeneration: {
    enabled: boolean;
    autoApproveUsd: number;
    perSession: number;
    perUserPerHour: number;
    maxUsdPerUserPerDay: number;
  };
}

/** Stages whose data must survive a `cdk destroy` unless their file says otherwise. */
export function isProductionStage(stage: string): boolean {
  return stage === 'prod' || stage.startsWith('prod-') || stage === 'production';
}

/** The CloudFormation stack name: one stack per stage, side by side in one account. */
export function stackNameFor(stage: string): string {
  return `elevenlabs-vision-${stage}`;
}

function isOrigin(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  // An origin serializes to exactly itself: no path, query, fragment, credentials or trailing slash.
  return url.origin === value;
}

function describeIssues(where: string, error: z.ZodError): string {
  const lines = error.issues.map((issue) => {
    const path = issue.path.length ? issue.path.join('.') : '(root)';
    return `  - ${path}: ${issue.message}`;
  });
  return `${where} is invalid:\n${lines.join('\n')}`;
}

/**
 * Builds the configuration of `stage` from the parsed stage file (or `undefined` when the stage
 * has none). Pure: the caller reads the file.
 */
export function resolveStageConfig(stage: string, file: unknown, source: string): StageConfig {
  if (!STAGE_NAME_PATTERN.test(stage)) {
    throw new StageConfigError(
      `stage "${stage}" is not a valid stage name: use 1-20 lowercase letters, digits and "-", starting with a letter`,
    );
  }
  const parsed = stageFileSchema.safeParse(file ?? {});
  if (!parsed.success) throw new StageConfigError(describeIssues(source, parsed.error));
  const data = parsed.data;

  const production = isProductionStage(stage);
  if (file === undefined && production) {
    throw new StageConfigError(
      `stage "${stage}" is a production stage and needs infra/stages/${stage}.json with at least allowedOrigins and auth`,
    );
  }
  // Production must choose its browser-facing policy explicitly rather than inherit dev defaults.
  if (production && data.allowedOrigins === undefined) {
    throw new StageConfigError(`${source}: allowedOrigins is required for production stage "${stage}"`);
  }
  if (production && data.auth === undefined) {
    throw new StageConfigError(
      `${source}: auth is required for production stage "${stage}" ({"mode":"jwt",...} or an explicit {"mode":"anonymous"})`,
    );
  }

  const ttlDays = Math.ceil(data.limits.sessionTtlSeconds / 86_400);
  const imageRetentionDays = data.limits.imageRetentionDays ?? ttlDays;
  if (imageRetentionDays < ttlDays) {
    throw new StageConfigError(
      `${source}: limits.imageRetentionDays (${imageRetentionDays}) must be at least the session TTL in days (${ttlDays}), or images would vanish from live sessions`,
    );
  }

  validateRouting(source, data.modelRoutes, data.compatibleProviders);

  return {
    stage,
    source,
    allowedOrigins: data.allowedOrigins ?? DEFAULT_DEV_ORIGINS,
    elevenLabsAgentId: data.elevenLabsAgentId,
    modelRoutes: data.modelRoutes,
    compatibleProviders: data.compatibleProviders,
    auth: data.auth ?? { mode: 'anonymous' },
    limits: { ...data.limits, maxImagesPerSession: data.limits.maxImagesPerSession, imageRetentionDays },
    reservedConcurrency: data.reservedConcurrency,
    logRetentionDays: data.logRetentionDays,
    logLevel: data.logLevel,
    removalPolicy: data.removalPolicy ?? (production ? 'retain' : 'destroy'),
    tracing: data.tracing,
    allowEcho: data.allowEcho,
    imageGeneration: data.imageGeneration,
  };
}

/** Keys the LLM secret holds besides the provider keys; a provider may not claim them. */
const RESERVED_SECRET_KEYS = new Set([
  'CHAT_API_KEY',
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'GEMINI_API_KEY',
]);

/**
 * Runs the chat function's own parsers over the routes and providers, so a route naming an
 * unknown provider fails at synth time rather than on the first turn.
 */
function validateRouting(
  source: string,
  modelRoutes: Record<string, unknown> | undefined,
  compatibleProviders: StageConfig['compatibleProviders'],
): void {
  for (const [name, spec] of Object.entries(compatibleProviders ?? {})) {
    if (spec.apiKeyEnv && RESERVED_SECRET_KEYS.has(spec.apiKeyEnv)) {
      throw new StageConfigError(
        `${source}: compatibleProviders.${name}.apiKeyEnv "${spec.apiKeyEnv}" is reserved for a built-in key`,
      );
    }
  }
  try {
    const providers = loadProviders({
      COMPATIBLE_PROVIDERS: compatibleProviders ? JSON.stringify(compatibleProviders) : undefined,
    });
    if (modelRoutes) parseRoutes(JSON.stringify(modelRoutes), new Set(providers.keys()));
  } catch (err) {
    if (err instanceof ConfigError)
      throw new StageConfigError(`${source} (modelRoutes/compatibleProviders): ${err.message}`);
    throw err;
  }
}

/** Reads `infra/stages/<stage>.json` when it exists and resolves the stage's configuration. */
export function loadStageConfig(stage: string, stagesDir: string): StageConfig {
  const path = join(stagesDir, `${stage}.json`);
  const source = `infra/stages/${stage}.json`;
  if (!existsSync(path)) return resolveStageConfig(stage, undefined, 'defaults');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new StageConfigError(`${source} is not valid JSON: ${(err as Error).message}`);
  }
  return resolveStageConfig(stage, json, source);
}
