// GET /health shows the image targets like the chat targets (issue 11): every catalog entry with
// its key and its persistent breaker's state, read through HTTP from the whole local product.
import { createBrowserApiClients } from '../../../functions/host/browser-api';
import { LOCAL_NAMES } from '../../../infra/local/dev-app';
import type { HealthReport } from '../../../shared/chat/app';
import { CircuitBreaker } from '../../../shared/routing/breaker';
import { type RunningDevServer, startDevServer } from '../../helpers/dev-server';

let server: RunningDevServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function health(url: string, headers: Record<string, string> = {}): Promise<HealthReport> {
  const res = await fetch(`${url}/health`, { headers });
  expect(res.status).toBe(200);
  return (await res.json()) as HealthReport;
}

test('with no key: every entry, echo configured, the others not; an open image breaker is shown', async () => {
  server = await startDevServer({ env: { PORT: '8787', IMAGE_GENERATION: 'true' } });
  const before = await health(server.url);
  const byId = new Map(before.imageTargets?.map((t) => [t.id, t]));
  expect(byId.get('echo:echo-image:medium')).toMatchObject({
    provider: 'echo',
    keyConfigured: true,
    enabled: true,
    priceUsd: 0,
    state: 'closed',
    recentFailures: 0,
  });
  expect(byId.get('openai:gpt-image-1-mini:low')).toMatchObject({ keyConfigured: false, state: 'closed' });
  expect(byId.get('openai:dall-e-3:medium')).toMatchObject({ enabled: false });
  // The chat targets are still there, beside them.
  expect(before.routes.length).toBeGreaterThan(0);

  // Another container's failures open the echo entry's breaker in the shared control table.
  const { dynamo } = await createBrowserApiClients(server.dev.browser);
  // A 300 ms store deadline drops writes on a loaded machine (the breaker failing open): 5 s here.
  const breaker = new CircuitBreaker({
    client: dynamo,
    tableName: LOCAL_NAMES.controlTable,
    settings: { storeTimeoutMs: 5000 },
    log: () => {},
  });
  const target = 'image:echo:echo-image:low';
  for (let i = 0; i < breaker.settings.failureThreshold; i++)
    await breaker.recordFailure(target, await breaker.admit(target), 'http_500');
  // The server's snapshot read has the default deadline: a read lost to load says stateUnknown, so ask again.
  let after: NonNullable<HealthReport['imageTargets']>[number] | undefined;
  for (let i = 0; i < 20; i++) {
    after = (await health(server.url)).imageTargets?.find((t) => t.id === 'echo:echo-image:low');
    if (!after?.stateUnknown) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  expect(after).toMatchObject({ state: 'open', lastErrorClass: 'http_500' });
  expect(after).not.toHaveProperty('stateUnknown');
  expect(Date.parse(String(after?.openUntil))).toBeGreaterThan(Date.now());
});

test('image targets are for holders of the chat key, and absent when image generation is off', async () => {
  server = await startDevServer({
    env: { PORT: '8787', IMAGE_GENERATION: 'true', CHAT_API_KEY: 'chat-key-123' },
  });
  expect(await health(server.url)).not.toHaveProperty('imageTargets');
  const authed = await health(server.url, { authorization: 'Bearer chat-key-123' });
  expect(authed.imageTargets?.length).toBeGreaterThan(0);
  await server.close();

  server = await startDevServer({ env: { PORT: '8787', IMAGE_GENERATION: 'false' } });
  const off = await health(server.url);
  expect(off.routes.length).toBeGreaterThan(0);
  expect(off).not.toHaveProperty('imageTargets');
});
