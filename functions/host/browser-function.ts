// The Lambda shape shared by the two browser-facing functions (sessions, uploads): a buffered
// function URL (payload v2) handled by middy, with the app built once per container on the
// first request (configuration and secrets are read then, and a failed build is retried).
// No CORS here: the function URL's own CORS configuration answers browsers.
import middy from '@middy/core';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import type { HttpHandler } from '../../shared/http/types';
import { createLogger, type Logger, type LogLevel } from '../../shared/observability/log';
import { jsonErrors } from './json-errors';
import { fromFunctionUrlEvent, toFunctionUrlResult } from './lambda-http';

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export function browserFunctionHandler(opts: {
  service: string;
  build: (log: Logger) => Promise<HttpHandler>;
}) {
  // LOG_LEVEL is read here, before the configuration, so a configuration error is logged too.
  const level = (process.env.LOG_LEVEL ?? 'info').toLowerCase();
  const log = createLogger(LEVELS.includes(level as LogLevel) ? (level as LogLevel) : 'info', {
    service: opts.service,
  });
  let app: Promise<HttpHandler> | undefined;
  const getApp = () => {
    app ??= opts.build(log).catch((err: unknown) => {
      app = undefined;
      throw err;
    });
    return app;
  };
  return middy<LambdaFunctionURLEvent, LambdaFunctionURLResult>()
    .use(jsonErrors({ log }))
    .handler(async (event, _context, { signal }) => {
      const http = await getApp();
      return toFunctionUrlResult(await http(fromFunctionUrlEvent(event), signal));
    });
}
