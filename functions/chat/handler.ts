// Lambda entry for the chat function URL (RESPONSE_STREAM): every upstream token is written to
// the response stream as it arrives. Configuration and secrets load at cold start; the secret
// is re-read every few minutes in the background, so `make secrets` and key rotation reach warm
// containers without a redeploy. Environment -> configuration here, the wiring in compose.ts.
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { backgroundSettled } from '../../shared/background';
import { loadConfig } from '../../shared/config';
import type { Env } from '../../shared/env-vars';
import { ApiError } from '../../shared/errors';
import { type HttpHandler, type HttpResponse, jsonResponse } from '../../shared/http/types';
import { createLogger, type Logger } from '../../shared/observability/log';
import {
  type AwsLambdaGlobal,
  fromFunctionUrlEvent,
  tolerateRuntimeStreamErrors,
  watchInvocation,
  writeToResponseStream,
} from '../host/lambda-http';
import { refreshingOnSecrets } from '../host/refreshing-handler';
import { loadHostSettings } from '../host/settings';
import { composeChat } from './compose';

declare const awslambda: AwsLambdaGlobal;

// The host's settings are read before the configuration, so a configuration error is logged too.
const { settings: host, problem } = loadHostSettings(process.env);
const log = createLogger(host.logLevel, { service: 'chat', stage: host.stage });
if (problem) log.error('host settings invalid; using their defaults', { error: problem });

/** The chat service for one version of the secret; a configuration error answers with a clear 500. */
export async function composeChatHandler(env: Env, logger: Logger): Promise<HttpHandler> {
  try {
    const config = loadConfig(env);
    if (config.deployed && !config.chatApiKey) {
      throw new Error('CHAT_API_KEY is missing from the LLM secret: refusing to serve an open endpoint');
    }
    if (config.echoFallback && config.deployed) {
      logger.error(
        'no provider key configured: run `make secrets` (the echo provider is off in deployed stacks)',
      );
    }
    return (await composeChat(config, logger)).handler;
  } catch (err) {
    logger.error('chat function misconfigured', { error: err });
    const apiErr = new ApiError(
      500,
      'server_error',
      `The chat function is misconfigured: ${(err as Error).message}`,
      {
        code: 'server_misconfigured',
      },
    );
    return async () => jsonResponse(500, apiErr.toBody());
  }
}

const service = refreshingOnSecrets({
  arnVariables: ['LLM_SECRET_ARN'],
  build: (env) => composeChatHandler(env, log),
  refreshMs: host.secretRefreshMs,
  log,
  secretName: 'LLM secret',
});

/**
 * Settles (never rejects) once the first service is built or its secret read failed: the bundle
 * awaits it at top level (scripts/build.ts), so Lambda's init, at full CPU, reads the secret and
 * loads the SDKs, and the first voice turn finds them ready. A failed read is retried by the
 * first request, as before.
 */
export const ready = service.settled();

export const handler = awslambda.streamifyResponse<LambdaFunctionURLEvent>(
  async (event, responseStream, context) => {
    const invocation = watchInvocation(responseStream, context);
    tolerateRuntimeStreamErrors(responseStream, (err) =>
      log.warn('the runtime response stream broke; the turn ends here', { error: err }),
    );
    let response: HttpResponse;
    try {
      response = await service.handle(fromFunctionUrlEvent(event), invocation.signal);
    } catch (err) {
      // Only the secret read can throw here (everything else answers with an error object); the
      // next request reads it again.
      log.error('could not load the LLM secret', { error: err });
      const unavailable = new ApiError(
        503,
        'service_unavailable',
        'The chat function could not load its keys; try again.',
        {
          code: 'configuration_unavailable',
          retryAfterSeconds: 1,
        },
      );
      response = jsonResponse(503, unavailable.toBody(), { 'retry-after': '1' });
    }
    try {
      await writeToResponseStream(awslambda, responseStream, response, invocation);
    } finally {
      invocation.dispose();
    }
    // The client has its whole answer; the invocation ends (and Lambda freezes the environment)
    // only once the turn's breaker and usage writes are done.
    await backgroundSettled();
  },
);
