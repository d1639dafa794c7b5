// Lambda entry of the generate function: one image generation job per asynchronous invocation
// ({kind:"generation_job", sessionId, generationId}, sent by the chat and sessions functions).
// The job claims its generation first, so Lambda's retries and duplicate events never generate or
// charge twice; an event that keeps failing goes to the on-failure queue, and the generation is
// failed `job_lost` when read past its deadline. Image provider keys come from IMAGE_SECRET_ARN.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { backgroundSettled } from '../../shared/background';
import { ConfigError, type Env, loadStorageConfig } from '../../shared/config';
import { loadImageGenConfig } from '../../shared/imagegen/config';
import { loadImageLimits } from '../../shared/images/limits-env';
import { createLogger, type LogLevel } from '../../shared/observability/log';
import { ImageObjects } from '../../shared/sessions/image-objects';
import { SessionStore } from '../../shared/sessions/store';
import { BROWSER_STORAGE_CLIENT_SETTINGS } from '../../shared/storage/client-settings';
import { overlaySecret, readSecrets } from '../host/secrets';
import { composeImageGeneration, type ImageGeneration, storageS3Client } from './compose';
import { loadImageGenerator } from './generator';
import { isGenerationJobEvent } from './invoke';

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const level = (process.env.LOG_LEVEL ?? 'info').toLowerCase();
const log = createLogger(LEVELS.includes(level as LogLevel) ? (level as LogLevel) : 'info', {
  service: 'generate',
});

async function build(): Promise<ImageGeneration> {
  let env: Env = process.env;
  for (const { arn, text } of await readSecrets(process.env, ['IMAGE_SECRET_ARN']))
    env = overlaySecret(env, text, arn);
  const storage = loadStorageConfig(env);
  if (!storage.sessionsTable || !storage.controlTable || !storage.imagesBucket)
    throw new ConfigError('SESSIONS_TABLE, CONTROL_TABLE and IMAGES_BUCKET are required');
  const region = storage.region ? { region: storage.region } : {};
  const doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      ...region,
      ...BROWSER_STORAGE_CLIENT_SETTINGS,
      ...(storage.dynamoEndpoint ? { endpoint: storage.dynamoEndpoint } : {}),
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  const s3 = storageS3Client(storage);
  const objects = new ImageObjects(s3, storage.imagesBucket);
  return composeImageGeneration({
    config: loadImageGenConfig(env),
    doc,
    sessionsTable: storage.sessionsTable,
    controlTable: storage.controlTable,
    store: new SessionStore({ client: doc, tableName: storage.sessionsTable, objects }),
    objects,
    generator: await loadImageGenerator(env, log),
    imageLimits: loadImageLimits(env),
    log,
  });
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
