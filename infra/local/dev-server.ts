// `make dev`: the whole product on one local port (chat, sessions, uploads, health), with
// embedded DynamoDB and S3 emulators keeping their data under .data/ across restarts.
import { loadConfig } from '../../shared/config';
import { createLogger } from '../../shared/observability/log';
import { defaultDataDir, MAKE_DEV_DEFAULTS, startDevApp } from './dev-app';
import { createNodeHost } from './node-host';

async function main(): Promise<void> {
  const env = { ...MAKE_DEV_DEFAULTS, ...process.env };
  const config = loadConfig(env);
  const log = createLogger(config.logLevel, { service: 'dev' });
  const dev = await startDevApp({
    env,
    dataDir: defaultDataDir(),
    log,
    writeMetrics: () => {},
  });
  const server = createNodeHost(dev.app.handler, {
    maxBodyBytes: config.maxBodyBytes,
    extraHeaders: (req) => dev.corsHeaders(req),
    bodyReadTimeoutMs: config.bodyReadTimeoutMs,
    log,
  });
  server.listen(config.port, '127.0.0.1', () => {
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.port;
    // Printed whatever LOG_LEVEL says: scripts and people wait for this line.
    process.stdout.write(
      `${JSON.stringify({ msg: 'listening', url: `http://127.0.0.1:${port}`, app: `http://127.0.0.1:${port}/`, serverUrlForElevenLabs: `http://127.0.0.1:${port}/v1`, data: defaultDataDir() })}\n`,
    );
    if (!config.chatApiKey)
      log.warn('CHAT_API_KEY is not set: the chat endpoint is OPEN (fine locally, never deployed)');
    if (config.echoFallback)
      log.warn('no provider key configured: every model is answered by the echo provider');
    if (config.imageGeneration.enabled)
      log.info(
        'image generation is on (IMAGE_GENERATION=false to turn it off): try "Draw a red fox" in the demo',
      );
  });
  const stop = () => {
    server.closeAllConnections();
    server.close(() => void dev.close().then(() => process.exit(0)));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  process.stderr.write(`dev server failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
