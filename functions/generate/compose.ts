// Image generation composed from its pieces, once per container: the generation store, the job
// (what the generate function runs), and the service both doors use (the chat tool, the browser
// API), with how a queued job starts: in this process (make dev, tests) or by invoking the
// generate function asynchronously (AWS).
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inBackground } from '../../shared/background';
import type { ImageGenConfig } from '../../shared/imagegen/config';
import { generationDeadlines } from '../../shared/imagegen/config';
import { type GenerationJob, type JobDeps, runGenerationJob } from '../../shared/imagegen/job';
import { createGenerationCharger } from '../../shared/imagegen/limits';
import { createOpenAIModeration, type ModeratePrompt, noModeration } from '../../shared/imagegen/moderation';
import { GenerationService, type StartJob } from '../../shared/imagegen/service';
import { GenerationStore } from '../../shared/imagegen/store';
import type { ImageGenerator } from '../../shared/imagegen/types';
import type { ImageLimits } from '../../shared/images/limits';
import { type BudgetLimits, SessionBudget } from '../../shared/limits/budget';
import { RateLimiter } from '../../shared/limits/rate-limiter';
import type { Logger } from '../../shared/observability/log';
import type { ImageObjects } from '../../shared/sessions/image-objects';
import type { SessionStore } from '../../shared/sessions/store';

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
  /** OPENAI_API_KEY / OPENAI_BASE_URL, for moderation. */
  openai?: { apiKey?: string; baseURL?: string };
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
    (config.moderation === 'openai' && parts.openai?.apiKey
      ? createOpenAIModeration({
          apiKey: parts.openai.apiKey,
          ...(parts.openai.baseURL ? { baseURL: parts.openai.baseURL } : {}),
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
