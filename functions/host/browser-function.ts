// The Lambda shape shared by the two browser-facing functions (sessions, uploads): a buffered
// function URL (payload v2) handled by middy, with the app composed once per container on the
// first request (configuration and secrets are read then, and a failed composition is retried).
// The uploads function also receives S3 ObjectCreated notifications: told apart by the event's
// shape, handled by the same app. No CORS here: the function URL's own CORS configuration answers browsers.
import middy from '@middy/core';
import type { Context, LambdaFunctionURLEvent, LambdaFunctionURLResult, S3Event } from 'aws-lambda';
import type { Env } from '../../shared/env-vars';
import type { HttpHandler } from '../../shared/http/types';
import { createLogger, type Logger } from '../../shared/observability/log';
import { jsonErrors } from './json-errors';
import { fromFunctionUrlEvent, toFunctionUrlResult } from './lambda-http';
import { type HostSettings, loadHostSettings } from './settings';

/** What one composition root composes for a browser function. */
export interface BrowserFunctionApp {
  http: HttpHandler;
  /** S3 event notifications (asynchronous invocations); a rejection makes Lambda retry the event. */
  objectEvents?: (event: S3Event) => Promise<void>;
}

export interface BrowserFunctionHandler {
  (event: LambdaFunctionURLEvent, context: Context): Promise<LambdaFunctionURLResult>;
  (event: S3Event, context: Context): Promise<void>;
}

/** S3 notifications carry `Records` from `aws:s3`; function URL events never have `Records`. */
export function isS3Event(event: unknown): event is S3Event {
  const records = (event as { Records?: unknown } | null)?.Records;
  return (
    Array.isArray(records) &&
    records.length > 0 &&
    records.every((r) => (r as { eventSource?: unknown } | null)?.eventSource === 'aws:s3')
  );
}

export function browserFunctionHandler(opts: {
  service: string;
  /** Environment -> configuration -> the function's compose (functions/<name>/compose.ts). */
  compose: (log: Logger, env: Env, host: HostSettings) => Promise<BrowserFunctionApp>;
}): BrowserFunctionHandler {
  // The host's settings are read before the configuration, so a configuration error is logged too.
  const { settings: host, problem } = loadHostSettings(process.env);
  const log = createLogger(host.logLevel, { service: opts.service });
  if (problem) log.error('host settings invalid; using their defaults', { error: problem });
  let app: Promise<BrowserFunctionApp> | undefined;
  const getApp = () => {
    app ??= opts.compose(log, process.env, host).catch((err: unknown) => {
      app = undefined;
      throw err;
    });
    return app;
  };
  const url = middy<LambdaFunctionURLEvent, LambdaFunctionURLResult>()
    .use(jsonErrors({ log }))
    .handler(async (event, _context, { signal }) => {
      const { http } = await getApp();
      return toFunctionUrlResult(await http(fromFunctionUrlEvent(event), signal));
    });
  const handler = async (event: LambdaFunctionURLEvent | S3Event, context: Context) => {
    if (!isS3Event(event)) return url(event, context);
    const { objectEvents } = await getApp();
    if (!objectEvents) {
      // Wiring mistake (a notification pointed at the wrong function): retrying cannot help.
      log.error('S3 event received by a function that handles none; ignored', {
        records: event.Records.length,
      });
      return;
    }
    await objectEvents(event);
  };
  return handler as BrowserFunctionHandler;
}
