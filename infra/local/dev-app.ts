// The whole product in one process: chat, sessions and uploads behind one router, with the
// embedded DynamoDB and S3 emulators. `make dev` serves it; integration tests and the image
// benchmark run exactly this.
import { join } from 'node:path';
import { composeChat } from '../../functions/chat/compose';
import { enableBrowserGenerations } from '../../functions/generate/compose';
import {
  type BrowserApiOptions,
  composeBrowserApi,
  createBrowserApiClients,
} from '../../functions/host/browser-api';
import { composeSessions } from '../../functions/sessions/compose';
import { composeUploads, type UploadsFunction } from '../../functions/uploads/compose';
import { type BrowserApiConfig, loadBrowserApiConfig } from '../../shared/browser-api/config';
import type { ChatApp } from '../../shared/chat/app';
import { loadConfig } from '../../shared/config';
import type { Env } from '../../shared/env-vars';
import {
  BROWSER_CORS_HEADERS,
  BROWSER_CORS_MAX_AGE_SECONDS,
  BROWSER_CORS_METHODS,
} from '../../shared/http/cors';
import type { HttpRequest } from '../../shared/http/types';
import type { ModeratePrompt } from '../../shared/imagegen/moderation';
import type { ImageGenerator } from '../../shared/imagegen/types';
import { createLogger, type Logger } from '../../shared/observability/log';
import { BUCKET_PREFIXES } from '../../shared/storage/schema';
import { appBucketOrigin, appConnectFor, mountApp } from '../../web/app/assets';
import { buildAppAssets } from '../../web/app/build';
import { type Emulators, startEmulators } from './emulators';

export interface DevApp {
  app: ChatApp;
  browser: BrowserApiConfig;
  env: Env;
  emulators: Emulators;
  /** CORS headers for an allowed Origin (the deployed stack sets these on the function URLs). */
  corsHeaders(req: HttpRequest): Record<string, string>;
  close(): Promise<void>;
}

export interface DevAppOptions {
  env: Env;
  /** Keep emulator data here across restarts; omit for throwaway data (tests). */
  dataDir?: string;
  log?: Logger;
  browser?: BrowserApiOptions;
  /** Test hook for image URLs inside chat messages. */
  fetchMessageImage?: (url: string) => Promise<Buffer>;
  writeMetrics?: (line: string) => void;
  /** Test hooks: the image generator and prompt moderation. */
  imageGeneration?: { generator?: ImageGenerator; moderate?: ModeratePrompt };
  /**
   * The bucket lifecycle rule for raw uploads, which the emulator lacks: swept once at start and
   * then every `intervalMs` (default 10 minutes); `now` lets tests move the clock.
   */
  uploadSweep?: { intervalMs?: number; now?: () => number };
  /** More origins the app's page may connect to (a test's fake ElevenLabs conversation socket). */
  appConnect?: string[];
}

const DEFAULT_UPLOAD_SWEEP_INTERVAL_MS = 10 * 60_000;

/**
 * What `make dev` turns on unless the shell says otherwise: image generation, so the whole flow
 * (ask, draw, see it next turn) works with no key, the echo image provider drawing locally for
 * free. Tests and benchmarks start the dev app with exactly the variables they give.
 */
export const MAKE_DEV_DEFAULTS: Env = { IMAGE_GENERATION: 'true' };

export const LOCAL_NAMES = {
  sessionsTable: 'local-sessions',
  controlTable: 'local-control',
  bucket: 'local-images',
};

export async function startDevApp(opts: DevAppOptions): Promise<DevApp> {
  const port = opts.env.PORT ?? '8787';
  const localEnv: Env = {
    SESSIONS_TABLE: LOCAL_NAMES.sessionsTable,
    CONTROL_TABLE: LOCAL_NAMES.controlTable,
    IMAGES_BUCKET: LOCAL_NAMES.bucket,
    AUTH_MODE: 'anonymous',
    ALLOWED_ORIGINS: `http://127.0.0.1:${port},http://localhost:${port}`,
    ...opts.env,
  };
  const emulators = await startEmulators({
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
    tables: [LOCAL_NAMES.sessionsTable, LOCAL_NAMES.controlTable],
    buckets: [LOCAL_NAMES.bucket],
    // The origins allowed to call the browser API may upload straight to the bucket.
    corsOrigins: originsIn(localEnv.ALLOWED_ORIGINS),
  });
  const env: Env = {
    ...localEnv,
    // Always the embedded emulators: `make dev` must never touch a real AWS account.
    AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamoEndpoint,
    AWS_ENDPOINT_URL_S3: emulators.s3Endpoint,
    AWS_REGION: emulators.region,
    AWS_ACCESS_KEY_ID: emulators.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: emulators.credentials.secretAccessKey,
  };
  // The AWS SDK's default credential chain reads these from the process environment.
  process.env.AWS_ACCESS_KEY_ID = emulators.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = emulators.credentials.secretAccessKey;
  const config = loadConfig(env);
  const browser = loadBrowserApiConfig(env);
  const log = opts.log ?? createLogger(config.logLevel, { service: 'dev' });
  // Each function's own composition root, all three on one router; the two browser functions
  // share one composed browser API (one store, one storage-incident log), as one process.
  const app = await composeChat(config, log, {
    ...(opts.fetchMessageImage ? { fetchMessageImage: opts.fetchMessageImage } : {}),
    ...(opts.writeMetrics ? { writeMetrics: opts.writeMetrics } : {}),
    ...(opts.imageGeneration ? { imageGeneration: opts.imageGeneration } : {}),
  });
  const clients = await createBrowserApiClients(browser);
  const api = composeBrowserApi(browser, clients, { log, ...opts.browser });
  // Image generation (IMAGE_GENERATION=true): jobs run in this process, tracked in the background.
  const generations = await enableBrowserGenerations(
    app.router,
    config.imageGeneration,
    api,
    clients,
    opts.imageGeneration,
  );
  composeSessions(api, app.router, generations);
  const uploads = composeUploads(api, app.router);
  const stopNotifications = deliverUploadNotifications(emulators, uploads);
  // The reference app (web/app) at `/`, bundled now: same origin as the API, so no CORS.
  mountApp(app.router, await buildAppAssets(), {
    connect: [...appConnectFor(browser), ...(opts.appConnect ?? [])],
    images: [appBucketOrigin(browser)],
  });
  const stopSweeping = sweepUploadsPeriodically(emulators, log, opts.uploadSweep);
  await stopSweeping.first;
  const origins = new Set(browser.auth.allowedOrigins);
  return {
    app,
    browser,
    env,
    emulators,
    corsHeaders(req): Record<string, string> {
      const origin = req.headers.origin;
      if (!origin || !origins.has(origin)) return {};
      return {
        'access-control-allow-origin': origin,
        'access-control-allow-methods': BROWSER_CORS_METHODS.join(', '),
        'access-control-allow-headers': BROWSER_CORS_HEADERS.join(', '),
        'access-control-max-age': String(BROWSER_CORS_MAX_AGE_SECONDS),
        vary: 'origin',
      };
    },
    close: async () => {
      stopNotifications();
      await stopSweeping.stop();
      await emulators.close();
    },
  };
}

/**
 * The stack's bucket notification (ObjectCreated under uploads/ -> the uploads function), in
 * process: each event goes to the uploads function's own handler for it. No retries here (Lambda
 * retries a failed event twice); the sweep below stays the backstop, as the lifecycle rule is
 * on AWS. Returns the unsubscription.
 */
export function deliverUploadNotifications(
  emulators: Pick<Emulators, 'notifications'>,
  uploads: Pick<UploadsFunction, 'objectEvents'>,
): () => void {
  return emulators.notifications.subscribe({
    prefix: BUCKET_PREFIXES.uploads,
    deliver: (event) => uploads.objectEvents(event.Records),
  });
}

/** Runs the raw-upload lifecycle sweep now and then periodically; a failed sweep is logged and retried next time. */
function sweepUploadsPeriodically(
  emulators: Emulators,
  log: Logger,
  opts: DevAppOptions['uploadSweep'] = {},
): { first: Promise<void>; stop(): Promise<void> } {
  const now = opts.now ?? Date.now;
  let running = Promise.resolve();
  const sweep = async () => {
    try {
      const swept = await emulators.sweepUploads(now());
      if (swept.length > 0)
        log.info('expired raw uploads removed (bucket lifecycle rule)', { count: swept.length });
    } catch (err) {
      log.warn('raw upload sweep failed; retrying at the next interval', { error: err });
    }
  };
  // One sweep at a time, and the last one finishes before the emulators close.
  const next = () => {
    running = running.then(sweep);
    return running;
  };
  const first = next();
  const timer = setInterval(() => void next(), opts.intervalMs ?? DEFAULT_UPLOAD_SWEEP_INTERVAL_MS);
  timer.unref();
  return {
    first,
    stop: () => {
      clearInterval(timer);
      return running;
    },
  };
}

export function defaultDataDir(): string {
  return join(process.cwd(), '.data');
}

/** The valid `scheme://host[:port]` entries of a comma-separated ALLOWED_ORIGINS. */
export function originsIn(list: string | undefined): string[] {
  return (list ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter((o) => URL.canParse(o) && new URL(o).origin === o);
}
