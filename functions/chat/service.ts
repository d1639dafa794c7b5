// Composition root of the chat function: configuration, AWS clients, circuit breaker, budgets,
// turn accounting and image context. Used by the Lambda entry and by the local dev server.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type ChatApp, createChatApp } from '../../shared/chat/app';
import type { TurnEnricher } from '../../shared/chat/handler';
import type { TurnRecord } from '../../shared/chat/turn-record';
import type { Config } from '../../shared/config';
import { SessionBudget } from '../../shared/limits/budget';
import { estimateCostUsd, priceCatalogFrom } from '../../shared/limits/prices';
import type { Logger } from '../../shared/observability/log';
import { turnMetricsEmf } from '../../shared/observability/metrics';
import { CircuitBreaker } from '../../shared/routing/breaker';

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

export function createDocumentClient(config: Config): DynamoDBDocumentClient {
  const { region, dynamoEndpoint } = config.storage;
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

export function createChatService(opts: ChatServiceOptions): ChatApp {
  const { config, log } = opts;
  const controlLog = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) =>
    log[level](msg, fields);
  const table = config.storage.controlTable;
  const doc = table ? (opts.documentClient ?? createDocumentClient(config)) : undefined;
  const breaker =
    doc && table ? new CircuitBreaker({ client: doc, tableName: table, log: controlLog }) : undefined;
  const budget =
    doc && table ? new SessionBudget({ client: doc, tableName: table, log: controlLog }) : undefined;
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
      void budget.addUsage(record.sessionId, {
        tokensIn: record.usage.prompt_tokens,
        tokensOut: record.usage.completion_tokens,
        costUsd: cost?.costUsd ?? 0,
      });
    }
  }

  return createChatApp({
    config,
    log,
    ...(breaker ? { breaker } : {}),
    ...(opts.enricher ? { enricher: opts.enricher } : {}),
    onTurnEnd,
    ...(budget && budgeted
      ? {
          admitTurn: async (sessionId: string | undefined) => {
            if (sessionId) await budget.checkBudget(sessionId, limits);
          },
        }
      : {}),
  });
}
