// Lambda entry of the generate function: one image generation job per asynchronous invocation
// ({kind:"generation_job", sessionId, generationId}, sent by the chat and sessions functions).
// The job claims its generation first, so Lambda's retries and duplicate events never generate or
// charge twice; an event that keeps failing goes to the on-failure queue, and the generation is
// failed `job_lost` when read past its deadline. Image provider keys come from IMAGE_SECRET_ARN.
// Environment -> configuration here (loadGenerateConfig), the wiring in compose.ts.
import { backgroundSettled } from '../../shared/background';
import { loadStorageConfig } from '../../shared/config';
import type { Env } from '../../shared/env-vars';
import { readEnv } from '../../shared/env-vars';
import { ConfigError } from '../../shared/errors';
import { type ImageGenConfig, loadImageGenConfig } from '../../shared/imagegen/config';
import type { ImageLimits } from '../../shared/images/limits';
import { imageEnvShape, imageLimitsFrom } from '../../shared/images/limits-env';
import { createLogger } from '../../shared/observability/log';
import { ImageObjects } from '../../shared/sessions/image-objects';
import { SessionStore } from '../../shared/sessions/store';
import { createDocumentClient, createS3Client } from '../../shared/storage/aws-clients';
import { overlaySecret, readSecrets } from '../host/secrets';
import { loadHostSettings } from '../host/settings';
import { composeImageGeneration, type ImageGeneration } from './compose';
import { composeGenerator } from './generator';
import { isGenerationJobEvent } from './invoke';

const { settings: host, problem } = loadHostSettings(process.env);
const log = createLogger(host.logLevel, { service: 'generate', stage: host.stage });
if (problem) log.error('host settings invalid; using their defaults', { error: problem });

/** The generate function's typed configuration, read once. */
export interface GenerateConfig {
  storage: { sessionsTable: string; controlTable: string; imagesBucket: string } & Parameters<
    typeof createDocumentClient
  >[0];
  imageGeneration: ImageGenConfig;
  imageLimits: ImageLimits;
}

export function loadGenerateConfig(env: Env): GenerateConfig {
  const storage = loadStorageConfig(env);
  if (!storage.sessionsTable || !storage.controlTable || !storage.imagesBucket)
    throw new ConfigError('SESSIONS_TABLE, CONTROL_TABLE and IMAGES_BUCKET are required');
  return {
    storage: {
      ...storage,
      sessionsTable: storage.sessionsTable,
      controlTable: storage.controlTable,
      imagesBucket: storage.imagesBucket,
    },
    imageGeneration: loadImageGenConfig(env),
    imageLimits: imageLimitsFrom(readEnv(imageEnvShape, env)),
  };
}

export async function composeGenerate(config: GenerateConfig): Promise<ImageGeneration> {
  const { storage } = config;
  const [doc, s3] = await Promise.all([createDocumentClient(storage), createS3Client(storage)]);
  const objects = new ImageObjects(s3, storage.imagesBucket);
  return composeImageGeneration({
    config: config.imageGeneration,
    doc,
    sessionsTable: storage.sessionsTable,
    controlTable: storage.controlTable,
    store: new SessionStore({ client: doc, tableName: storage.sessionsTable, objects }),
    objects,
    generator: composeGenerator(config.imageGeneration, doc, storage.controlTable, log),
    imageLimits: config.imageLimits,
    log,
  });
}

async function build(): Promise<ImageGeneration> {
  let env: Env = process.env;
  for (const { arn, text } of await readSecrets(process.env, ['IMAGE_SECRET_ARN']))
    env = overlaySecret(env, text, arn);
  return composeGenerate(loadGenerateConfig(env));
}

let app: Promise<ImageGeneration> | undefined;

export async function handler(event: unknown): Promise<{ outcome: string }> {
  if (!isGenerationJobEvent(event)) {
    // A wiring mistake: retrying cannot help, so it is not thrown (which would make Lambda retry).
    log.error('generate function received an event that is not a generation job; ignored');
    return { outcome: 'ignored' };
  }
  app ??= build().catch((err: unknown) => {
    app = undefined;
    throw err;
  });
  const outcome = await (await app).runJob({ sessionId: event.sessionId, generationId: event.generationId });
  // The session's cost write must land before Lambda freezes the environment.
  await backgroundSettled();
  return { outcome: outcome.kind };
}
