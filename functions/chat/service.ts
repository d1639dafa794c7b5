// Composition root of the chat function: configuration, AWS clients, circuit breaker, budgets,
// turn accounting and image context. Used by the Lambda entry and by the local dev server.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inBackground } from '../../shared/background';
import { type ChatApp, createChatApp, warmRouteProviders } from '../../shared/chat/app';
import type { TurnEnricher } from '../../shared/chat/turn-enricher';
import type { TurnRecord } from '../../shared/chat/turn-record';
import type { Config } from '../../shared/config';
import type { SessionBudget } from '../../shared/limits/budget';
import { estimateCostUsd, priceCatalogFrom } from '../../shared/limits/prices';
import type { Logger } from '../../shared/observability/log';
import { turnMetricsEmf } from '../../shared/observability/metrics';
import type { CircuitBreaker } from '../../shared/routing/breaker';
import { LiveTurns } from '../../shared/turns/live-turns';

export interface ChatServiceOptions {
  config: Config;
  log: Logger;
  /** Adds session images to turns (built by the caller, which owns the S3 and session clients). */
  enricher?: TurnEnricher;
  /** Shared document client; created from the storage config when omitted. */
  documentClient?: DynamoDBDocumentClient;
  /** Where EMF lines go (stdout on Lambda). */
  writeMetrics?: (line: string) => void;
}

export async function createDocumentClient(config: Config): Promise<DynamoDBDocumentClient> {
  const { region, dynamoEndpoint } = config.storage;
  const [{ DynamoDBClient }, { DynamoDBDocumentClient }] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('@aws-sdk/lib-dynamodb'),
  ]);
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({
      ...(region ? { region } : {}),
      ...(dynamoEndpoint ? { endpoint: dynamoEndpoint } : {}),
      // One quick try: breaker and budget calls are advisory and bounded by their own deadlines.
      maxAttempts: 2,
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
}

/**
 * Everything a turn needs, built once per container. Heavy modules (AWS SDK, provider SDKs) are
 * loaded here, during cold start, and only when the configuration uses them.
 */
export async function createChatService(opts: ChatServiceOptions): Promise<ChatApp> {
  const { config, log } = opts;
  const controlLog = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) =>
    log[level](msg, fields);
  const table = config.storage.controlTable;
  let breaker: CircuitBreaker | undefined;
  let budget: SessionBudget | undefined;
  let liveTurns: LiveTurns | undefined;
  if (table) {
    const doc = opts.documentClient ?? (await createDocumentClient(config));
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
