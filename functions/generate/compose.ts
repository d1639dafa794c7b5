// Image generation composed from its pieces, once per container: the generation store, the job
// (what the generate function runs), and the service both doors use (the chat tool, the browser
// API), with how a queued job starts: in this process (make dev, tests) or by invoking the
// generate function asynchronously (AWS).
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { inBackground } from '../../shared/background';
import type { BrowserApiDeps } from '../../shared/browser-api/deps';
import type { SessionsRoutesOptions } from '../../shared/browser-api/sessions-routes';
import type { Router } from '../../shared/http/router';
import { createGenerationRoutes } from '../../shared/imagegen/api';
import { generationDeadlines, type ImageGenConfig } from '../../shared/imagegen/config';
import { type GenerationJob, type JobDeps, runGenerationJob } from '../../shared/imagegen/job';
import { createGenerationCharger } from '../../shared/imagegen/limits';
import { createOpenAIModeration, type ModeratePrompt, noModeration } from '../../shared/imagegen/moderation';
import { GenerationService, type StartJob } from '../../shared/imagegen/service';
import { GenerationStore } from '../../shared/imagegen/store';
import type { ImageGenerator } from '../../shared/imagegen/types';
import { type PublicGeneration, publicGeneration } from '../../shared/imagegen/views';
import type { ImageLimits } from '../../shared/images/limits';
import { type BudgetLimits, SessionBudget } from '../../shared/limits/budget';
import { RateLimiter } from '../../shared/limits/rate-limiter';
import type { Logger } from '../../shared/observability/log';
import type { ImageObjects } from '../../shared/sessions/image-objects';
import type { SessionStore } from '../../shared/sessions/store';
import type { BrowserApiClients } from '../host/browser-api';
import { composeGenerator } from './generator';
import { lambdaJobStarter } from './invoke';

export interface ImageGenerationParts {
  config: ImageGenConfig;
  doc: DynamoDBDocumentClient;
  sessionsTable: string;
  controlTable: string;
  store: SessionStore;
  objects: ImageObjects;
  generator: ImageGenerator;
  imageLimits: ImageLimits;
  log: Logger;
  /** The session's budget limits, checked before a generation is queued (unset = only counted). */
  sessionBudget?: BudgetLimits;
  /** Replaces moderation (tests). */
  moderate?: ModeratePrompt;
  now?: () => number;
}

export interface ImageGeneration {
  generations: GenerationStore;
  jobDeps: JobDeps;
  runJob(job: GenerationJob): ReturnType<typeof runGenerationJob>;
  /** The service with the given way of starting jobs. */
  service(startJob: StartJob): GenerationService;
  /** Starts jobs in this process, tracked until they settle (make dev, tests). */
  inProcessStarter: StartJob;
}

export function composeImageGeneration(parts: ImageGenerationParts): ImageGeneration {
  const { config, doc, log } = parts;
  const controlLog = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) =>
    log[level](msg, fields);
  const generations = new GenerationStore({
    client: doc,
    tableName: parts.sessionsTable,
    deadlines: generationDeadlines(config),
    ...(parts.now ? { now: parts.now } : {}),
  });
  const budget = new SessionBudget({
    client: doc,
    tableName: parts.controlTable,
    log: controlLog,
    ...(parts.now ? { now: parts.now } : {}),
  });
  const limiter = new RateLimiter({
    client: doc,
    tableName: parts.controlTable,
    log: controlLog,
    whenUnavailable: 'deny',
    // Failing closed, a slow table refuses a paid image: give it more time than the chat's 300 ms.
    timeoutMs: 2000,
    ...(parts.now ? { now: parts.now } : {}),
  });
  const jobDeps: JobDeps = {
    generations,
    store: parts.store,
    objects: parts.objects,
    generator: parts.generator,
    addSessionCost: (sessionId, costUsd) =>
      budget.addUsage(sessionId, { tokensIn: 0, tokensOut: 0, costUsd }),
    imageLimits: parts.imageLimits,
    log,
    timeoutMs: config.jobTimeoutMs,
    logPrompts: config.logPrompts,
  };
  const runJob = (job: GenerationJob) => runGenerationJob(jobDeps, job);
  const moderate =
    parts.moderate ??
    (config.moderation === 'openai' && config.openai
      ? createOpenAIModeration({
          apiKey: config.openai.apiKey,
          ...(config.openai.baseURL ? { baseURL: config.openai.baseURL } : {}),
          model: config.moderationModel,
        })
      : noModeration);
  const limits = parts.sessionBudget;
  const inProcessStarter: StartJob = async (job) => {
    inBackground(
      runJob(job).catch((err: unknown) => log.error('generation job crashed', { ...job, error: err })),
    );
  };
  return {
    generations,
    jobDeps,
    runJob,
    inProcessStarter,
    service: (startJob) =>
      new GenerationService({
        config,
        generations,
        sessions: parts.store,
        objects: parts.objects,
        generator: parts.generator,
        moderate,
        charge: createGenerationCharger(limiter, config),
        ...(limits && (limits.maxTokens !== undefined || limits.maxCostUsd !== undefined)
          ? { checkSessionBudget: (sessionId: string) => budget.checkBudget(sessionId, limits) }
          : {}),
        startJob,
        maxSourceBytes: parts.imageLimits.maxInputBytes,
        log,
        ...(parts.now ? { now: parts.now } : {}),
      }),
  };
}

/** A presigned GET of an object in the images bucket, valid one hour (the generation view's image URL). */
export function presignImageGet(s3: S3Client, bucket: string): (key: string) => Promise<string> {
  return (key) => getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 3600 });
}

/**
 * The browser door on a router that already has the sessions routes' dependencies: the
 * generation routes, and the generations listed by `GET /sessions/{id}` (returned for
 * createSessionsRoutes' options).
 */
export function mountBrowserGenerations(
  router: Router,
  deps: BrowserApiDeps,
  service: GenerationService,
): { listGenerations: (sessionId: string) => Promise<PublicGeneration[]> } {
  createGenerationRoutes(router, {
    guard: deps.guard,
    service,
    store: deps.store,
    presignGet: presignImageGet(deps.s3, deps.objects.bucket),
    storageFaults: deps.storageFaults,
    log: deps.log,
  });
  return {
    listGenerations: async (sessionId) => (await service.list(sessionId)).map((r) => publicGeneration(r)),
  };
}

/**
 * The browser door as the sessions function and the dev server mount it: nothing when
 * IMAGE_GENERATION is off; else the generation routes, with jobs started by invoking the
 * generate function (GENERATE_FUNCTION_NAME, AWS) or in this process (local).
 */
export async function enableBrowserGenerations(
  router: Router,
  config: ImageGenConfig,
  deps: BrowserApiDeps,
  clients: BrowserApiClients,
  opts: { generator?: ImageGenerator; moderate?: ModeratePrompt } = {},
): Promise<SessionsRoutesOptions> {
  if (!config.enabled) return {};
  const gen = composeImageGeneration({
    config,
    doc: clients.dynamo,
    sessionsTable: deps.config.sessionsTable,
    controlTable: deps.config.controlTable,
    store: deps.store,
    objects: deps.objects,
    generator: opts.generator ?? composeGenerator(config, clients.dynamo, deps.config.controlTable, deps.log),
    imageLimits: deps.config.imageLimits,
    log: deps.log,
    // The same check as the voice door's: a spent session is refused before anything is asked.
    sessionBudget: deps.config.sessionBudget,
    now: deps.now,
    ...(opts.moderate ? { moderate: opts.moderate } : {}),
  });
  return mountBrowserGenerations(router, deps, gen.service(jobStarterFor(config, gen)));
}

/** How queued jobs start: by invoking the generate function (AWS), or in this process. */
export function jobStarterFor(config: ImageGenConfig, gen: ImageGeneration): StartJob {
  return config.functionName
    ? lambdaJobStarter({ functionName: config.functionName, ...config.lambda })
    : gen.inProcessStarter;
}
