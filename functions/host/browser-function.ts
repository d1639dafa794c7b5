// The Lambda shape shared by the two browser-facing functions (sessions, uploads): a buffered
// function URL (payload v2) handled by middy, with the app built once per container on the
// first request (configuration and secrets are read then, and a failed build is retried).
// The uploads function also receives S3 ObjectCreated notifications: told apart by the event's
// shape, handled by the same app. No CORS here: the function URL's own CORS configuration answers browsers.
import middy from '@middy/core';
import type { Context, LambdaFunctionURLEvent, LambdaFunctionURLResult, S3Event } from 'aws-lambda';
import type { HttpHandler } from '../../shared/http/types';
import { createLogger, type Logger, type LogLevel } from '../../shared/observability/log';
import { jsonErrors } from './json-errors';
import { fromFunctionUrlEvent, toFunctionUrlResult } from './lambda-http';

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** What one composition root builds for a browser function. */
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
  build: (log: Logger) => Promise<BrowserFunctionApp>;
}): BrowserFunctionHandler {
  // LOG_LEVEL is read here, before the configuration, so a configuration error is logged too.
  const level = (process.env.LOG_LEVEL ?? 'info').toLowerCase();
  const log = createLogger(LEVELS.includes(level as LogLevel) ? (level as LogLevel) : 'info', {
    service: opts.service,
  });
  let app: Promise<BrowserFunctionApp> | undefined;
  const getApp = () => {
    app ??= opts.build(log).catch((err: unknown) => {
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
