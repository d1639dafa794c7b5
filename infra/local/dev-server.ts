// `make dev`: the whole product on one local port, with embedded DynamoDB and S3 emulators.

import { createChatApp } from '../../shared/chat/app';
import { loadConfig } from '../../shared/config';
import { createLogger } from '../../shared/observability/log';
import { createNodeHost } from './node-host';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const log = createLogger(config.logLevel, { service: 'dev' });
  const app = createChatApp({ config, log, onTurnEnd: (r) => log.info('turn', { ...r }) });
  const server = createNodeHost(app.handler, {
    maxBodyBytes: config.maxBodyBytes,
    onError: (err) => log.error('unhandled', { error: err }),
  });
  server.listen(config.port, '127.0.0.1', () => {
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.port;
    log.info('listening', {
      url: `http://127.0.0.1:${port}`,
      serverUrlForElevenLabs: `http://127.0.0.1:${port}/v1`,
    });
    if (!config.chatApiKey)
      log.warn('CHAT_API_KEY is not set: the chat endpoint is OPEN (fine locally, never deployed)');
    if (config.echoFallback)
      log.warn('no provider key configured: every model is answered by the echo provider');
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  process.stderr.write(`dev server failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
