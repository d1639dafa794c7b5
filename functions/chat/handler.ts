// Lambda entry for the chat function URL (RESPONSE_STREAM): every upstream token is written to
// the response stream as it arrives. Configuration and secrets load once per container.
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { loadConfig } from '../../shared/config';
import { ApiError } from '../../shared/errors';
import { type HttpHandler, jsonResponse } from '../../shared/http/types';
import { createLogger } from '../../shared/observability/log';
import { type AwsLambdaGlobal, fromFunctionUrlEvent, writeToResponseStream } from '../host/lambda-http';
import { loadEnvWithSecrets } from '../host/secrets';
import { createImageEnricherFromConfig } from './images';
import { createChatService } from './service';

declare const awslambda: AwsLambdaGlobal;

const log = createLogger((process.env.LOG_LEVEL as 'info' | undefined) ?? 'info', {
  service: 'chat',
  stage: process.env.STAGE,
});

/** Built once per container; a configuration error answers every request with a clear 500. */
const ready: Promise<HttpHandler> = (async () => {
  try {
    const env = await loadEnvWithSecrets(process.env, ['LLM_SECRET_ARN']);
    const config = loadConfig(env);
    if (config.deployed && !config.chatApiKey) {
      throw new Error('CHAT_API_KEY is missing from the LLM secret: refusing to serve an open endpoint');
    }
    if (config.echoFallback)
      log.error(
        'no provider key configured: run `make secrets` (the echo provider is off in deployed stacks)',
      );
    const enricher = await createImageEnricherFromConfig(config, env, log);
    return (await createChatService({ config, log, enricher })).handler;
  } catch (err) {
    log.error('chat function misconfigured', { error: err });
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
})();

export const handler = awslambda.streamifyResponse<LambdaFunctionURLEvent>(async (event, responseStream) => {
  const handle = await ready;
  const ctrl = new AbortController();
  responseStream.on('close', () => ctrl.abort(new Error('client disconnected')));
  const response = await handle(fromFunctionUrlEvent(event), ctrl.signal);
  await writeToResponseStream(awslambda, responseStream, response, ctrl.signal);
});
