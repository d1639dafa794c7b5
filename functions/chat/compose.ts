// Composition root of the chat function: its typed configuration in, the chat app out (one
// DynamoDB client shared by the breaker, the budgets, the live turns and the session store; the
// image context; turn accounting). The Lambda entry (handler.ts) calls it for each version of
// the LLM secret; the dev server, the benchmarks and the tests call it too.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inBackground } from '../../shared/background';
import { type ChatApp, type ChatAppOptions, createChatApp, warmRouteProviders } from '../../shared/chat/app';
import type { TurnLoop } from '../../shared/chat/turn-core';
import type { TurnEnricher } from '../../shared/chat/turn-enricher';
import type { TurnRecord } from '../../shared/chat/turn-record';
import type { Config } from '../../shared/config';
import type { ModeratePrompt } from '../../shared/imagegen/moderation';
import type { ImageRunner } from '../../shared/imagegen/runner';
import type { ImageGenerator } from '../../shared/imagegen/types';
import type { SessionBudget } from '../../shared/limits/budget';
import { estimateCostUsd, priceCatalogFrom } from '../../shared/limits/prices';
import type { Logger } from '../../shared/observability/log';
import { turnMetricsEmf } from '../../shared/observability/metrics';
import type { CircuitBreaker } from '../../shared/routing/breaker';
import { routeOffersImageTool } from '../../shared/routing/routes';
import { createDocumentClient } from '../../shared/storage/aws-clients';
import { LiveTurns } from '../../shared/turns/live-turns';
import { composeImageContext } from './images';

export interface ComposeChatOptions {
  /** Shared document client; created from the storage configuration when omitted. */
  documentClient?: DynamoDBDocumentClient;
  /** Test hook: replaces how the image context is composed. */
  composeImageContext?: () => Promise<TurnEnricher>;
  /** Benchmarks and tests of the text path: no image context at all. */
  withoutImages?: true;
  /** Test hook: how image URLs inside messages are fetched. */
  fetchMessageImage?: (url: string) => Promise<Buffer>;
  /** Where EMF lines go (stdout on Lambda). */
  writeMetrics?: (line: string) => void;
  /** Test hooks: the image generator and prompt moderation. */
  imageGeneration?: {
    generator?: ImageGenerator & Partial<Pick<ImageRunner, 'health'>>;
    moderate?: ModeratePrompt;
  };
}

export async function composeChat(
  config: Config,
  log: Logger,
  opts: ComposeChatOptions = {},
): Promise<ChatApp> {
  const { sessionsTable, controlTable } = config.storage;
  const documentClient =
    opts.documentClient ??
    (sessionsTable || controlTable ? await createDocumentClient(config.storage) : undefined);
  let enricher: TurnEnricher | undefined;
  if (!opts.withoutImages) {
    try {
      enricher = await (opts.composeImageContext?.() ??
        composeImageContext(config, log, {
          ...(documentClient ? { documentClient } : {}),
          ...(opts.fetchMessageImage ? { fetchImage: opts.fetchMessageImage } : {}),
        }));
    } catch (err) {
      // Images are an addition to the conversation, not a condition for it: if the image stack
      // cannot load (say, sharp's native binary does not match the platform), chat goes on.
      log.error('image context unavailable; answering turns without images', { error: err });
    }
  }
  const images = await imageToolLoop(config, log, documentClient, opts.imageGeneration);
  return composeChatApp({
    config,
    log,
    ...(enricher ? { enricher } : {}),
    ...(images ? { loop: images.loop } : {}),
    ...(images?.health ? { imageHealth: images.health } : {}),
    ...(documentClient ? { documentClient } : {}),
    ...(opts.writeMetrics ? { writeMetrics: opts.writeMetrics } : {}),
  });
}

interface ChatAppParts {
  config: Config;
  log: Logger;
  enricher?: TurnEnricher;
  /** The image generation tool loop (IMAGE_GENERATION). */
  loop?: TurnLoop;
  /** The image targets /health shows (IMAGE_GENERATION). */
  imageHealth?: ChatAppOptions['imageHealth'];
  documentClient?: DynamoDBDocumentClient;
  writeMetrics?: (line: string) => void;
}

/**
 * The breaker, budgets, live turns and turn accounting around the chat app, built once per
 * container. Heavy modules (AWS SDK, provider SDKs) are loaded here, during cold start, and only
 * when the configuration uses them.
 */
async function composeChatApp(opts: ChatAppParts): Promise<ChatApp> {
  const { config, log } = opts;
  const controlLog = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) =>
    log[level](msg, fields);
  const table = config.storage.controlTable;
  let breaker: CircuitBreaker | undefined;
  let budget: SessionBudget | undefined;
  let liveTurns: LiveTurns | undefined;
  if (table) {
    const doc = opts.documentClient ?? (await createDocumentClient(config.storage));
    const [breakerModule, budgetModule, liveTurnStoreModule] = await Promise.all([
      import('../../shared/routing/breaker'),
      import('../../shared/limits/budget'),
      import('../../shared/turns/live-turn-store'),
    ]);
    breaker = new breakerModule.CircuitBreaker({ client: doc, tableName: table, log: controlLog });
    budget = new budgetModule.SessionBudget({ client: doc, tableName: table, log: controlLog });
    // On Lambda a newer turn of a conversation always lands in another execution environment
    // (this one is busy streaming): the control table is how it reaches the older turn.
    if (config.liveTurns.enabled) {
      liveTurns = new LiveTurns({
        store: new liveTurnStoreModule.DynamoLiveTurnStore({ client: doc, tableName: table }),
        pollMs: config.liveTurns.pollMs,
        log: controlLog,
      });
    }
  }
  const prices = priceCatalogFrom(config.modelPricesJson);
  const writeMetrics = opts.writeMetrics ?? ((line: string) => process.stdout.write(`${line}\n`));
  const limits = config.sessionBudget;
  const budgeted = limits.maxTokens !== undefined || limits.maxCostUsd !== undefined;

  function onTurnEnd(record: TurnRecord): void {
    const cost =
      record.usage && record.model
        ? estimateCostUsd(
            record.model,
            { tokensIn: record.usage.prompt_tokens, tokensOut: record.usage.completion_tokens },
            prices,
          )
        : undefined;
    // No prompts, no image bytes, no keys: ids, counts, timings and the route taken.
    log.info('turn', { ...record, ...(cost ? { costUsd: cost.costUsd, priced: cost.priced } : {}) });
    writeMetrics(JSON.stringify(turnMetricsEmf(record, config.stage)));
    if (budget && record.sessionId && record.usage) {
      inBackground(
        budget.addUsage(record.sessionId, {
          tokensIn: record.usage.prompt_tokens,
          tokensOut: record.usage.completion_tokens,
          costUsd: cost?.costUsd ?? 0,
        }),
      );
    }
  }

  const app = createChatApp({
    config,
    log,
    ...(breaker ? { breaker } : {}),
    ...(opts.enricher ? { enricher: opts.enricher } : {}),
    ...(opts.loop ? { loop: opts.loop } : {}),
    ...(opts.imageHealth ? { imageHealth: opts.imageHealth } : {}),
    onTurnEnd,
    ...(liveTurns ? { liveTurns } : {}),
    ...(budget && budgeted
      ? {
          admitTurn: async (sessionId: string | undefined) => {
            if (sessionId) await budget.checkBudget(sessionId, limits);
          },
        }
      : {}),
  });
  await warmRouteProviders(app, config);
  return app;
}

/**
 * The generate_image tool loop when IMAGE_GENERATION is on and the session storage is there
 * (images live in sessions), with the image targets for /health; loaded lazily so chat without
 * it pays nothing at cold start.
 */
async function imageToolLoop(
  config: Config,
  log: Logger,
  doc: DynamoDBDocumentClient | undefined,
  hooks: ComposeChatOptions['imageGeneration'] = {},
): Promise<{ loop: TurnLoop; health?: ChatAppOptions['imageHealth'] } | undefined> {
  const { sessionsTable, controlTable, imagesBucket } = config.storage;
  // A route may offer the tool while IMAGE_GENERATION is off (MODEL_ROUTES `imageGeneration`):
  // the chat door then answers for those routes only (the loop decides per turn).
  const offered = [...config.routes.values()].some((r) =>
    routeOffersImageTool(r, config.imageGeneration.enabled),
  );
  if (!offered) return undefined;
  const gen = { ...config.imageGeneration, enabled: true };
  if (!doc || !sessionsTable || !controlTable || !imagesBucket) {
    log.warn(
      'image generation is on (IMAGE_GENERATION or a route) but session storage is not configured: the tool is not offered',
    );
    return undefined;
  }
  const [
    { composeImageGeneration, jobStarterFor },
    { composeGenerator },
    { createImageToolLoop },
    { SessionStore },
    { ImageObjects },
    { createS3Client },
  ] = await Promise.all([
    import('../generate/compose'),
    import('../generate/generator'),
    import('../../shared/imagegen/tool'),
    import('../../shared/sessions/store'),
    import('../../shared/sessions/image-objects'),
    import('../../shared/storage/aws-clients'),
  ]);
  const objects = new ImageObjects(await createS3Client(config.storage), imagesBucket);
  const store = new SessionStore({ client: doc, tableName: sessionsTable, objects });
  const generator = hooks.generator ?? composeGenerator(gen, doc, controlTable, log);
  const generation = composeImageGeneration({
    config: gen,
    doc,
    sessionsTable,
    controlTable,
    store,
    objects,
    generator,
    imageLimits: config.images.limits,
    log,
    sessionBudget: config.sessionBudget,
    ...(hooks.moderate ? { moderate: hooks.moderate } : {}),
  });
  const loop = createImageToolLoop({
    service: generation.service(jobStarterFor(gen, generation)),
    offeredByDefault: config.imageGeneration.enabled,
    sessions: store,
    log,
  });
  // A test's generator may have no health of its own; the composed runner always has.
  const health = generator.health?.bind(generator);
  return health ? { loop, health } : { loop };
}
