// The part of the composition the two browser functions (sessions, uploads) share: their AWS
// clients, session store, bucket, guard and ElevenLabs access, from the browser configuration.
// Used by functions/sessions/compose.ts, functions/uploads/compose.ts, the dev server and tests.
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createCallerAuthenticator } from '../../shared/auth/authenticate';
import { createBrowserGuard } from '../../shared/auth/browser-guard';
import { createJwtVerifier, type VerifyJwt } from '../../shared/auth/jwt-verifier';
import { createRateLimitEnforcer, createSessionRateLimitEnforcer } from '../../shared/auth/rate-limits';
import type { BrowserApiConfig } from '../../shared/browser-api/config';
import type { BrowserApiDeps, UrlFetchSettings } from '../../shared/browser-api/deps';
import { ElevenLabsClient } from '../../shared/elevenlabs/client';
import { SessionBudget } from '../../shared/limits/budget';
import { RateLimiter } from '../../shared/limits/rate-limiter';
import { type Logger, silentLogger } from '../../shared/observability/log';
import { ThrottledErrorLog } from '../../shared/observability/throttled-error-log';
import { ImageObjects } from '../../shared/sessions/image-objects';
import { SessionStore } from '../../shared/sessions/store';
import { createDocumentClient, createS3Client } from '../../shared/storage/aws-clients';
import { StorageFaultBoundary } from '../../shared/storage/fault-boundary';

export interface BrowserApiClients {
  dynamo: DynamoDBDocumentClient;
  s3: S3Client;
}

/** SDK clients for the configured region, or for the local emulators when endpoints are set. */
export async function createBrowserApiClients(config: BrowserApiConfig): Promise<BrowserApiClients> {
  const target = {
    region: config.region,
    dynamoEndpoint: config.endpoints.dynamodb,
    s3Endpoint: config.endpoints.s3,
  };
  const [dynamo, s3] = await Promise.all([createDocumentClient(target), createS3Client(target)]);
  return { dynamo, s3 };
}

export interface BrowserApiOptions {
  log?: Logger;
  /** Epoch milliseconds; tests move it to expire sessions. */
  now?: () => number;
  /** Replaces the JWKS-backed verifier (jwt mode). */
  verifyJwt?: VerifyJwt;
  urlFetch?: Partial<UrlFetchSettings>;
  elevenLabsTimeoutMs?: number;
  /** Least time between two storage-outage log lines (one incident = one line). */
  storageFaultLogIntervalMs?: number;
}

const DEFAULT_URL_FETCH_TIMEOUT_MS = 10_000;
const DEFAULT_STORAGE_FAULT_LOG_INTERVAL_MS = 60_000;

export function composeBrowserApi(
  config: BrowserApiConfig,
  clients: BrowserApiClients,
  opts: BrowserApiOptions = {},
): BrowserApiDeps {
  const log = opts.log ?? silentLogger;
  const now = opts.now ?? Date.now;
  const objects = new ImageObjects(clients.s3, config.imagesBucket);
  const store = new SessionStore({
    client: clients.dynamo,
    tableName: config.sessionsTable,
    now,
    objects,
    maxImagesPerSession: config.maxImagesPerSession,
  });
  const sink = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) =>
    log[level](message, fields);
  // One incident log for every storage call of this API, rate limits included: a DynamoDB
  // outage is one line per interval however many requests and components meet it.
  const storageIncidents = new ThrottledErrorLog(
    sink,
    'storage unavailable: browser calls that need it answer 503 storage_unavailable, rate limits fail open',
    opts.storageFaultLogIntervalMs ?? DEFAULT_STORAGE_FAULT_LOG_INTERVAL_MS,
    now,
    'error',
  );
  const limiter = new RateLimiter({
    client: clients.dynamo,
    tableName: config.controlTable,
    now,
    log: sink,
    errors: storageIncidents,
  });
  const verifyJwt =
    config.auth.mode === 'jwt'
      ? (opts.verifyJwt ??
        createJwtVerifier({
          issuer: config.auth.issuer,
          audience: config.auth.audience,
          jwksUrl: config.auth.jwksUrl,
        }))
      : undefined;
  const guard = createBrowserGuard({
    authenticate: createCallerAuthenticator(config.auth, verifyJwt),
    enforceRateLimit: createRateLimitEnforcer(limiter, config.rateLimits),
    enforceSessionRateLimit: createSessionRateLimitEnforcer(limiter, config.rateLimits),
    store,
  });
  const elevenLabs = config.elevenLabs
    ? {
        client: new ElevenLabsClient({
          apiKey: config.elevenLabs.apiKey,
          ...(config.elevenLabs.baseUrl ? { baseUrl: config.elevenLabs.baseUrl } : {}),
          ...(opts.elevenLabsTimeoutMs ? { timeoutMs: opts.elevenLabsTimeoutMs } : {}),
        }),
        agentId: config.elevenLabs.agentId,
      }
    : undefined;
  return {
    config,
    store,
    objects,
    s3: clients.s3,
    guard,
    budget: new SessionBudget({ client: clients.dynamo, tableName: config.controlTable, now, log: sink }),
    ...(elevenLabs ? { elevenLabs } : {}),
    urlFetch: { timeoutMs: DEFAULT_URL_FETCH_TIMEOUT_MS, ...opts.urlFetch },
    storageFaults: new StorageFaultBoundary(storageIncidents),
    log,
    now,
  };
}
