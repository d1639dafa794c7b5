// Image generation over the embedded DynamoDB and S3 through the real AWS SDK: the session store,
// the generation store, the job and the service composed as the functions compose them, with
// the in-test PNG generator, a log that keeps its lines, and a clock tests can move.
import { composeImageGeneration, type ImageGeneration } from '../../../functions/generate/compose';
import type { ApiError } from '../../../shared/errors';
import {
  IMAGE_GEN_DEFAULTS,
  type ImageGenConfig,
  loadImageGeneratorSettings,
} from '../../../shared/imagegen/config';
import type { ModeratePrompt } from '../../../shared/imagegen/moderation';
import type { GenerationService, StartJob } from '../../../shared/imagegen/service';
import { DEFAULT_IMAGE_LIMITS } from '../../../shared/images/normalize';
import type { BudgetLimits } from '../../../shared/limits/budget';
import { createLogger, type Logger } from '../../../shared/observability/log';
import { ImageObjects } from '../../../shared/sessions/image-objects';
import { SessionStore } from '../../../shared/sessions/store';
import type { SessionRecord } from '../../../shared/sessions/types';
import { catalogEntry, createPngGenerator, type PngGenerator } from '../../helpers/png-generator';
import { BUCKET, CONTROL_TABLE, SESSIONS_TABLE, type TestStorage } from '../sessions/harness';

export const T0 = 1_780_000_000_000;

export function genConfig(overrides: Partial<ImageGenConfig> = {}): ImageGenConfig {
  return {
    enabled: true,
    autoApproveUsd: IMAGE_GEN_DEFAULTS.autoApproveUsd,
    confirmTtlSeconds: 600,
    perSession: 20,
    perUserPerHour: 10,
    maxUsdPerUserPerDay: 2,
    jobTimeoutMs: 10_000,
    queuedTimeoutMs: 5 * 60_000,
    moderation: 'off',
    moderationModel: 'omni-moderation-latest',
    logPrompts: false,
    generator: loadImageGeneratorSettings({}),
    lambda: {},
    ...overrides,
  };
}

export interface GenHarness {
  clock: { now: number };
  store: SessionStore;
  objects: ImageObjects;
  generator: PngGenerator;
  gen: ImageGeneration;
  service: GenerationService;
  lines: Record<string, unknown>[];
  newSession(): Promise<SessionRecord>;
}

export function genHarness(
  storage: TestStorage,
  opts: {
    config?: Partial<ImageGenConfig>;
    startJob?: (gen: ImageGeneration) => StartJob;
    moderate?: ModeratePrompt;
    sessionBudget?: BudgetLimits;
    logLevel?: 'debug' | 'info';
  } = {},
): GenHarness {
  const clock = { now: T0 };
  const now = () => clock.now;
  const lines: Record<string, unknown>[] = [];
  const log: Logger = createLogger(opts.logLevel ?? 'info', {}, (line) => lines.push(JSON.parse(line)));
  const objects = new ImageObjects(storage.clients.s3, BUCKET);
  const store = new SessionStore({ client: storage.clients.dynamo, tableName: SESSIONS_TABLE, now, objects });
  const generator = createPngGenerator([
    catalogEntry({ id: 'cheap:flux-schnell:medium', priceUsd: 0.003, priority: 1 }),
    catalogEntry({ id: 'dear:gpt-image-1:medium', priceUsd: 0.042, priority: 2 }),
    catalogEntry({ id: 'dear:gpt-image-1:high', quality: 'high', priceUsd: 0.167, priority: 1 }),
  ]);
  const gen = composeImageGeneration({
    config: genConfig(opts.config),
    doc: storage.clients.dynamo,
    sessionsTable: SESSIONS_TABLE,
    controlTable: CONTROL_TABLE,
    store,
    objects,
    generator,
    imageLimits: DEFAULT_IMAGE_LIMITS,
    log,
    now,
    ...(opts.moderate ? { moderate: opts.moderate } : {}),
    ...(opts.sessionBudget ? { sessionBudget: opts.sessionBudget } : {}),
  });
  const service = gen.service(opts.startJob ? opts.startJob(gen) : gen.inProcessStarter);
  return {
    clock,
    store,
    objects,
    generator,
    gen,
    service,
    lines,
    newSession: async () => (await store.createSession({ ttlSeconds: 3600 })).session,
  };
}

/** The ApiError a call refuses with (fails the test when it does not refuse). */
export async function rejection(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    return err as ApiError;
  }
  throw new Error('expected a rejection');
}
