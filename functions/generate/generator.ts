// The image generator every function that generates uses (generate; chat and sessions for
// estimates): the providers and catalog from the typed configuration, behind the persistent
// breaker on the control table (image targets are "image:<entry id>", beside the chat targets).
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ImageGenConfig } from '../../shared/imagegen/config';
import type { ImageRunner } from '../../shared/imagegen/runner';
import { composeImageGenerator } from '../../shared/imagegen/setup';
import type { Logger } from '../../shared/observability/log';
import { CircuitBreaker } from '../../shared/routing/breaker';

export function composeGenerator(
  config: ImageGenConfig,
  doc: DynamoDBDocumentClient,
  controlTable: string,
  log: Logger,
): ImageRunner {
  const breaker = new CircuitBreaker({
    client: doc,
    tableName: controlTable,
    log: (level, msg, fields) => log[level](msg, fields),
  });
  return composeImageGenerator(config.generator, { breaker, log }).generator;
}
