// The chat function as deployed and as `make dev` runs it: one DynamoDB client shared by the
// breaker, the budgets and the session store; the image context; the chat service.
import type { ChatApp } from '../../shared/chat/app';
import type { TurnEnricher } from '../../shared/chat/turn-enricher';
import type { Config, Env } from '../../shared/config';
import type { Logger } from '../../shared/observability/log';
import { createImageEnricherFromConfig } from './images';
import { createChatService, createDocumentClient } from './service';

export interface ComposeOptions {
  /** Test hook: replaces how the image context is built. */
  buildImageContext?: () => Promise<TurnEnricher>;
  /** Test hook: how image URLs inside messages are fetched. */
  fetchMessageImage?: (url: string) => Promise<Buffer>;
  writeMetrics?: (line: string) => void;
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
  return createChatService({
    config,
    log,
    ...(enricher ? { enricher } : {}),
    ...(documentClient ? { documentClient } : {}),
    ...(opts.writeMetrics ? { writeMetrics: opts.writeMetrics } : {}),
  });
}
