// The chat function as deployed and as `make dev` runs it: one DynamoDB client shared by the
// breaker, the budgets and the session store; the image context; the chat service.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ChatApp } from '../../shared/chat/app';
import type { TurnLoop } from '../../shared/chat/turn-core';
import type { TurnEnricher } from '../../shared/chat/turn-enricher';
import type { Config, Env } from '../../shared/config';
import { loadImageGenConfig } from '../../shared/imagegen/config';
import type { ModeratePrompt } from '../../shared/imagegen/moderation';
import type { ImageGenerator } from '../../shared/imagegen/types';
import type { Logger } from '../../shared/observability/log';
import { createImageEnricherFromConfig } from './images';
import { createChatService, createDocumentClient } from './service';

export interface ComposeOptions {
  /** Test hook: replaces how the image context is built. */
  buildImageContext?: () => Promise<TurnEnricher>;
  /** Test hook: how image URLs inside messages are fetched. */
  fetchMessageImage?: (url: string) => Promise<Buffer>;
  writeMetrics?: (line: string) => void;
  /** Test hooks: the image generator (until the providers land) and prompt moderation. */
  imageGeneration?: { generator?: ImageGenerator; moderate?: ModeratePrompt };
}

export async function composeChatFunction(
  config: Config,
  env: Env,
  log: Logger,
  opts: ComposeOptions = {},
): Promise<ChatApp> {
  const { sessionsTable, controlTable } = config.storage;
  const documentClient = sessionsTable || controlTable ? await createDocumentClient(config) : undefined;
  let enricher: TurnEnricher | undefined;
  try {
    enricher = await (opts.buildImageContext?.() ??
      createImageEnricherFromConfig(config, env, log, {
        ...(documentClient ? { documentClient } : {}),
        ...(opts.fetchMessageImage ? { fetchImage: opts.fetchMessageImage } : {}),
      }));
  } catch (err) {
    // Images are an addition to the conversation, not a condition for it: if the image stack
    // cannot load (say, sharp's native binary does not match the platform), chat goes on.
    log.error('image context unavailable; answering turns without images', { error: err });
  }
  const loop = await imageToolLoop(config, env, log, documentClient, opts.imageGeneration);
  return createChatService({
    config,
    log,
    ...(enricher ? { enricher } : {}),
    ...(loop ? { loop } : {}),
    ...(documentClient ? { documentClient } : {}),
    ...(opts.writeMetrics ? { writeMetrics: opts.writeMetrics } : {}),
  });
}

/**
 * The generate_image tool loop when IMAGE_GENERATION is on and the session storage is there
 * (images live in sessions); loaded lazily so chat without it pays nothing at cold start.
 */
async function imageToolLoop(
  config: Config,
  env: Env,
  log: Logger,
  doc: DynamoDBDocumentClient | undefined,
  hooks: ComposeOptions['imageGeneration'] = {},
): Promise<TurnLoop | undefined> {
  const genConfig = loadImageGenConfig(env);
  const { sessionsTable, controlTable, imagesBucket } = config.storage;
  if (!genConfig.enabled) return undefined;
  if (!doc || !sessionsTable || !controlTable || !imagesBucket) {
    log.warn('IMAGE_GENERATION is on but session storage is not configured: the tool is not offered');
    return undefined;
  }
  const [
    { composeImageGeneration, jobStarterFor, storageS3Client },
    { createImageToolLoop },
    { SessionStore },
    { ImageObjects },
    { loadImageLimits },
    { loadImageGenerator },
  ] = await Promise.all([
    import('../generate/compose'),
    import('../../shared/imagegen/tool'),
    import('../../shared/sessions/store'),
    import('../../shared/sessions/image-objects'),
    import('../../shared/images/limits-env'),
    import('../generate/generator'),
  ]);
  const objects = new ImageObjects(storageS3Client(config.storage), imagesBucket);
  const store = new SessionStore({ client: doc, tableName: sessionsTable, objects });
  const gen = composeImageGeneration({
    config: genConfig,
    doc,
    sessionsTable,
    controlTable,
    store,
    objects,
    generator: hooks.generator ?? (await loadImageGenerator(env, log)),
    imageLimits: loadImageLimits(env),
    log,
    sessionBudget: config.sessionBudget,
    openai: {
      ...(env.OPENAI_API_KEY ? { apiKey: env.OPENAI_API_KEY } : {}),
      ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}),
    },
    ...(hooks.moderate ? { moderate: hooks.moderate } : {}),
  });
  return createImageToolLoop({
    service: gen.service(jobStarterFor(genConfig, gen, env)),
    sessions: store,
    log,
  });
}
