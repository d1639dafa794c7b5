// Our chat server in its own process for benchmarks: the real composition root (composeChat)
// behind the real local host, logs quiet so the measurement is of the request path. With
// WITH_EMULATORS=1 it is the whole local product (sessions, uploads, breaker on DynamoDB).
import { composeChat } from '../functions/chat/compose';
import { startDevApp } from '../infra/local/dev-app';
import { createNodeHost } from '../infra/local/node-host';
import { loadConfig } from '../shared/config';
import type { HttpHandler, HttpRequest } from '../shared/http/types';
import { createLogger } from '../shared/observability/log';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const log = createLogger('error');
  let handler: HttpHandler;
  let cors: (req: HttpRequest) => Record<string, string> = () => ({});
  if (process.env.WITH_EMULATORS === '1') {
    const dev = await startDevApp({ env: process.env, log, writeMetrics: () => {} });
    handler = dev.app.handler;
    cors = (req) => dev.corsHeaders(req);
  } else {
    handler = (await composeChat(config, log, { withoutImages: true, writeMetrics: () => {} })).handler;
  }
  // Bench-only probe (this file is never deployed): heap in use after a full GC, so a soak can
  // tell a leak from a heap that merely has not been collected yet.
  const gc = (globalThis as { gc?: () => void }).gc;
  const product = handler;
  if (gc) {
    handler = async (req, signal) => {
      if (req.path !== '/__bench/heap') return product(req, signal);
      gc();
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(process.memoryUsage()),
      };
    };
  }
  const server = createNodeHost(handler, { maxBodyBytes: config.maxBodyBytes, extraHeaders: cors });
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: process.pid })}\n`);
  });
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

void main();
