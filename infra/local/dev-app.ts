// The whole product in one process: chat, sessions and uploads behind one router, with the
// embedded DynamoDB and S3 emulators. `make dev` serves it; integration tests and the image
// benchmark run exactly this.
import { join } from 'node:path';
import { composeChatFunction } from '../../functions/chat/compose';
import type { ChatApp } from '../../shared/chat/app';
import { type Env, loadConfig } from '../../shared/config';
import type { HttpRequest } from '../../shared/http/types';
import { createLogger, type Logger } from '../../shared/observability/log';
import { createSessionsRoutes } from '../../shared/sessions/api';
import {
  type BrowserApiOptions,
  createBrowserApiClients,
  createBrowserApiDeps,
} from '../../shared/sessions/browser-api';
import { type BrowserApiConfig, loadBrowserApiConfig } from '../../shared/sessions/config';
import { BUCKET_PREFIXES } from '../../shared/storage/schema';
import { createUploadsRoutes } from '../../shared/uploads/api';
import { type LateUploadDeps, removeLateUploads } from '../../shared/uploads/late-uploads';
import { appConnectFor, mountApp } from '../../web/app/assets';
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
  /**
   * The bucket lifecycle rule for raw uploads, which the emulator lacks: swept once at start and
   * then every `intervalMs` (default 10 minutes); `now` lets tests move the clock.
   */
  uploadSweep?: { intervalMs?: number; now?: () => number };
  /** More origins the app's page may connect to (a test's fake ElevenLabs conversation socket). */
  appConnect?: string[];
}

const DEFAULT_UPLOAD_SWEEP_INTERVAL_MS = 10 * 60_000;

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
  const app = await composeChatFunction(config, env, log, {
    ...(opts.fetchMessageImage ? { fetchMessageImage: opts.fetchMessageImage } : {}),
    ...(opts.writeMetrics ? { writeMetrics: opts.writeMetrics } : {}),
  });
  const deps = createBrowserApiDeps(browser, createBrowserApiClients(browser), { log, ...opts.browser });
  createSessionsRoutes(app.router, deps);
  createUploadsRoutes(app.router, deps);
  const stopNotifications = deliverUploadNotifications(emulators, deps);
  // The reference app (web/app) at `/`, bundled now: same origin as the API, so no CORS.
  mountApp(app.router, await buildAppAssets(), {
    connect: [...appConnectFor(browser), ...(opts.appConnect ?? [])],
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
        'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
        'access-control-allow-headers': 'content-type, authorization, x-session-secret',
        'access-control-max-age': '600',
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
 * process: each event goes to the same code the uploads function runs for it, with the browser
 * API's own store and bucket. No retries here (Lambda retries a failed event twice); the sweep
 * below stays the backstop, as the lifecycle rule is on AWS. Returns the unsubscription.
 */
export function deliverUploadNotifications(
  emulators: Pick<Emulators, 'notifications'>,
  deps: LateUploadDeps,
): () => void {
  return emulators.notifications.subscribe({
    prefix: BUCKET_PREFIXES.uploads,
    deliver: (event) => removeLateUploads(deps, event.Records),
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
