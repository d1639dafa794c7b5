// Composes the chat function's image context from its configuration: the sessions table, the
// bucket, and the image limits (the uploads function's, config.images). Without a sessions table and bucket, turns are plain chat (messages' own
// images are still checked and normalized).
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TurnEnricher } from '../../shared/chat/turn-enricher';
import type { Config } from '../../shared/config';
import type { Logger } from '../../shared/observability/log';
import type { RouteTarget } from '../../shared/routing/routes';
import { createDocumentClient, createS3Client } from '../../shared/storage/aws-clients';

export interface ImageEnricherOptions {
  documentClient?: DynamoDBDocumentClient;
  /** Test hook: how message image URLs are fetched (default: SSRF-safe https fetch). */
  fetchImage?: (url: string) => Promise<Buffer>;
}

export async function composeImageContext(
  config: Config,
  log: Logger,
  opts: ImageEnricherOptions = {},
): Promise<TurnEnricher> {
  const settings = config.images;
  const [{ createImageContext }, { fetchImageSafely }] = await Promise.all([
    import('../../shared/context/image-context'),
    import('../../shared/images/safe-fetch'),
  ]);
  const fetchImage =
    opts.fetchImage ??
    (async (url: string) =>
      (
        await fetchImageSafely(url, {
          maxBytes: settings.limits.maxInputBytes,
          timeoutMs: settings.urlFetchTimeoutMs,
        })
      ).bytes);
  const { sessionsTable, imagesBucket } = config.storage;
  if (!sessionsTable || !imagesBucket) {
    // No session storage: only the images inside messages are handled.
    return createImageContext({
      store: undefined,
      log,
      limits: settings.limits,
      fetchImage,
      deliveryFor: () => 'inline',
    });
  }
  const [{ GetObjectCommand }, { getSignedUrl }, { SessionStore }, { ImageObjects }, s3] = await Promise.all([
    import('@aws-sdk/client-s3'),
    import('@aws-sdk/s3-request-presigner'),
    import('../../shared/sessions/store'),
    import('../../shared/sessions/image-objects'),
    createS3Client(config.storage),
  ]);
  const objects = new ImageObjects(s3, imagesBucket);
  const doc = opts.documentClient ?? (await createDocumentClient(config.storage));
  const store = new SessionStore({ client: doc, tableName: sessionsTable, objects });
  const deliveryFor = (target: RouteTarget) =>
    target.options.imageDelivery ?? config.providers.get(target.provider)?.imageDelivery ?? 'inline';
  return createImageContext({
    store: { store, objects },
    log,
    limits: settings.limits,
    fetchImage,
    presignGet: (key) =>
      getSignedUrl(s3, new GetObjectCommand({ Bucket: imagesBucket, Key: key }), { expiresIn: 3600 }),
    deliveryFor,
    cacheBytes: settings.cacheBytes,
  });
}
