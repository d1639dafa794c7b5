// Builds the chat function's image context from configuration: the sessions table, the bucket,
// and image limits. Without a sessions table and bucket, turns are plain chat (messages' own
// images are still checked and normalized).
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TurnEnricher } from '../../shared/chat/turn-enricher';
import { type Config, ConfigError, type Env } from '../../shared/config';
import type { ImageLimits } from '../../shared/images/limits';
import { loadImageLimits } from '../../shared/images/limits-env';
import type { Logger } from '../../shared/observability/log';
import type { RouteTarget } from '../../shared/routing/routes';

export interface ChatImageSettings {
  limits: ImageLimits;
  /** In-memory cache of normalized image bytes, per container. */
  cacheBytes: number;
  urlFetchTimeoutMs: number;
}

function int(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new ConfigError(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

export function loadChatImageSettings(env: Env): ChatImageSettings {
  return {
    // The same variables, rules and defaults as the uploads function: both accept the same images.
    limits: loadImageLimits(env),
    cacheBytes: int(env, 'IMAGE_CACHE_BYTES', 64 * 1024 * 1024),
    urlFetchTimeoutMs: int(env, 'IMAGE_URL_TIMEOUT_MS', 5000),
  };
}

export interface ImageEnricherOptions {
  documentClient?: DynamoDBDocumentClient;
  /** Test hook: how message image URLs are fetched (default: SSRF-safe https fetch). */
  fetchImage?: (url: string) => Promise<Buffer>;
}

export async function createImageEnricherFromConfig(
  config: Config,
  env: Env,
  log: Logger,
  opts: ImageEnricherOptions = {},
): Promise<TurnEnricher> {
  const settings = loadChatImageSettings(env);
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
  const [
    { S3Client, GetObjectCommand },
    { getSignedUrl },
    { SessionStore },
    { ImageObjects },
    { createDocumentClient },
  ] = await Promise.all([
    import('@aws-sdk/client-s3'),
    import('@aws-sdk/s3-request-presigner'),
    import('../../shared/sessions/store'),
    import('../../shared/sessions/image-objects'),
    import('./service'),
  ]);
  const { region, s3Endpoint } = config.storage;
  const s3 = new S3Client({
    ...(region ? { region } : {}),
    ...(s3Endpoint
      ? {
          endpoint: s3Endpoint,
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
  });
  const objects = new ImageObjects(s3, imagesBucket);
  const doc = opts.documentClient ?? (await createDocumentClient(config));
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
