// Composition of the browser-facing API (sessions + uploads) from configuration. The Lambda
// entries, the local dev server and the tests all build their dependencies here, then mount
// createSessionsRoutes / createUploadsRoutes on a Router.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createCallerAuthenticator } from '../auth/authenticate';
import { type BrowserGuard, createBrowserGuard } from '../auth/browser-guard';
import { createJwtVerifier, type VerifyJwt } from '../auth/jwt-verifier';
import { createRateLimitEnforcer, createSessionRateLimitEnforcer } from '../auth/rate-limits';
import { ElevenLabsClient } from '../elevenlabs/client';
import type { SafeFetchOptions } from '../images/safe-fetch';
import { SessionBudget } from '../limits/budget';
import { RateLimiter } from '../limits/rate-limiter';
import type { Logger } from '../observability/log';
import { silentLogger } from '../observability/log';
import { ThrottledErrorLog } from '../observability/throttled-error-log';
import { BROWSER_STORAGE_CLIENT_SETTINGS } from '../storage/client-settings';
import { StorageFaultBoundary } from '../storage/fault-boundary';
import type { BrowserApiConfig } from './config';
import { ImageObjects } from './image-objects';
import { SessionStore } from './store';

export interface BrowserApiClients {
  dynamo: DynamoDBDocumentClient;
  s3: S3Client;
}

/** SDK clients for the configured region, or for the local emulators when endpoints are set. */
export function createBrowserApiClients(config: BrowserApiConfig): BrowserApiClients {
  const region = config.region ? { region: config.region } : {};
  const dynamo = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      ...region,
      ...BROWSER_STORAGE_CLIENT_SETTINGS,
      ...(config.endpoints.dynamodb ? { endpoint: config.endpoints.dynamodb } : {}),
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  const s3 = new S3Client({
    ...region,
    ...BROWSER_STORAGE_CLIENT_SETTINGS,
    ...(config.endpoints.s3
      ? {
          endpoint: config.endpoints.s3,
          // The emulator has no virtual-host buckets and no flexible checksums.
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
  });
  return { dynamo, s3 };
}

/** How image URLs are fetched; tests widen the address policy to a loopback image server. */
export type UrlFetchSettings = Pick<SafeFetchOptions, 'allowHttp' | 'addressPolicy' | 'lookup'> & {
  timeoutMs: number;
};

export interface ElevenLabsAccess {
  client: ElevenLabsClient;
  agentId: string;
}

export interface BrowserApiDeps {
  config: BrowserApiConfig;
  store: SessionStore;
  objects: ImageObjects;
  /** For presigning upload forms. */
  s3: S3Client;
  guard: BrowserGuard;
  /** The session's token and cost totals the chat function adds after each turn (read-only here). */
  budget: SessionBudget;
  /** Absent when ELEVENLABS_API_KEY or ELEVENLABS_AGENT_ID is not configured. */
  elevenLabs?: ElevenLabsAccess;
  urlFetch: UrlFetchSettings;
  /** Turns storage outages into 503 storage_unavailable, logged once per incident. */
  storageFaults: StorageFaultBoundary;
  log: Logger;
  now: () => number;
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

export function createBrowserApiDeps(
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
