// Our chat server in its own process for benchmarks: the real composition (createChatService)
// behind the real local host, with logs quiet so the measurement is of the request path.
import { createChatService } from '../functions/chat/service';
import { createNodeHost } from '../infra/local/node-host';
import { loadConfig } from '../shared/config';
import { createLogger } from '../shared/observability/log';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const log = createLogger('error');
  const app = await createChatService({ config, log, writeMetrics: () => {} });
  const server = createNodeHost(app.handler, { maxBodyBytes: config.maxBodyBytes });
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: process.pid })}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

void main();
