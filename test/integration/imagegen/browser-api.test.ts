// The browser door over HTTP, the whole local product (dev server, emulators): ask, confirm,
// read with a presigned URL of the image, cancel, the session listing its generations, and every
// refusal in the API's error format with its precise code.
import sharp from 'sharp';
import { createBrowserApiClients } from '../../../functions/host/browser-api';
import { LOCAL_NAMES } from '../../../infra/local/dev-app';
import { backgroundSettled } from '../../../shared/background';
import { SessionBudget } from '../../../shared/limits/budget';
import { createBrowserSession, type RunningDevServer, startDevServer } from '../../helpers/dev-server';
import { catalogEntry, createPngGenerator, type PngGenerator } from '../../helpers/png-generator';

const ORIGIN = 'http://127.0.0.1:8787';
let server: RunningDevServer;
let generator: PngGenerator;

beforeAll(async () => {
  generator = createPngGenerator([
    catalogEntry({ id: 'cheap:flux-schnell:medium', priceUsd: 0.003 }),
    catalogEntry({ id: 'dear:gpt-image-1:high', quality: 'high', priceUsd: 0.167 }),
  ]);
  server = await startDevServer({
    env: { PORT: '8787', IMAGE_GENERATION: 'true', IMAGE_LIMIT_PER_USER_PER_HOUR: '50' },
    imageGeneration: { generator },
  });
});
afterAll(() => server.close());

async function call(
  session: { sessionId: string; sessionSecret: string },
  method: string,
  path: string,
  body?: unknown,
  secret = session.sessionSecret,
  base = server.url,
): Promise<{
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { error?: { code: string; param: string | null } };
}> {
  const res = await fetch(`${base}/sessions/${session.sessionId}${path}`, {
    method,
    headers: { origin: ORIGIN, 'content-type': 'application/json', 'x-session-secret': secret },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as never };
}

test('ask under the auto-approve amount: 201 queued, then ready with a presigned URL of the PNG; the session lists it', async () => {
  const session = await createBrowserSession(server.url, ORIGIN);
  const asked = await call(session, 'POST', '/generations', { prompt: 'a red kite', aspect: 'portrait' });
  expect(asked.status).toBe(201);
  expect(asked.body).toMatchObject({
    status: 'queued',
    estimateUsd: 0.003,
    chosen: { provider: 'cheap', model: 'flux-schnell' },
    quality: 'medium',
    aspect: 'portrait',
  });
  await backgroundSettled();
  const got = await call(session, 'GET', `/generations/${asked.body.generationId}`);
  expect(got.body).toMatchObject({
    status: 'ready',
    provider: 'cheap',
    costUsd: 0.003,
    attempts: 1,
    fallbackUsed: false,
  });
  const png = await fetch(String(got.body.imageUrl));
  expect(png.status).toBe(200);
  const meta = await sharp(Buffer.from(await png.arrayBuffer())).metadata();
  expect([meta.format, meta.width, meta.height]).toEqual(['png', 64, 96]);
  const { imageUrl: _url, ...rest } = got.body;
  expect(JSON.stringify(rest)).not.toMatch(/images\/s_|claimToken|requester|originalKey/);

  const listed = await call(session, 'GET', '');
  expect(listed.body.generations).toEqual([
    expect.objectContaining({ generationId: asked.body.generationId, status: 'ready' }),
  ]);
  expect(listed.body.images).toEqual([
    expect.objectContaining({ imageId: got.body.imageId, source: 'generated', inContext: true }),
  ]);
});

test('ask above it: the estimate and alternatives; confirm (twice) starts it once; cancel after is 409', async () => {
  const session = await createBrowserSession(server.url, ORIGIN);
  const before = generator.calls.length;
  const asked = await call(session, 'POST', '/generations', { prompt: 'a castle', quality: 'high' });
  expect(asked.status).toBe(201);
  expect(asked.body).toMatchObject({ status: 'awaiting_confirmation', estimateUsd: 0.167 });
  expect(typeof asked.body.confirmBy).toBe('string');
  const id = asked.body.generationId as string;
  const [a, b] = await Promise.all([
    call(session, 'POST', `/generations/${id}/confirm`),
    call(session, 'POST', `/generations/${id}/confirm`),
  ]);
  expect([a.status, b.status]).toEqual([200, 200]);
  await backgroundSettled();
  expect(generator.calls.length - before).toBe(1);
  const cancel = await call(session, 'DELETE', `/generations/${id}`);
  expect([cancel.status, cancel.body.error?.code]).toEqual([409, 'generation_not_cancellable']);
});

test('cancel while waiting: 200 cancelled; confirm then is 409', async () => {
  const session = await createBrowserSession(server.url, ORIGIN);
  const asked = await call(session, 'POST', '/generations', { prompt: 'a castle', quality: 'high' });
  const id = asked.body.generationId as string;
  const cancel = await call(session, 'DELETE', `/generations/${id}`);
  expect([cancel.status, cancel.body.status]).toEqual([200, 'cancelled']);
  const confirm = await call(session, 'POST', `/generations/${id}/confirm`);
  expect([confirm.status, confirm.body.error?.code]).toEqual([409, 'generation_not_confirmable']);
});

test.each([
  ['an empty prompt', { prompt: '  ' }, 400, 'invalid_request', 'prompt'],
  ['an unknown quality', { prompt: 'x', quality: 'ultra' }, 400, 'invalid_request', 'quality'],
  ['a malformed edit id', { prompt: 'x', editImageId: '../etc' }, 400, 'invalid_image_id', 'image_id'],
  [
    'an edit of an unknown image',
    { prompt: 'x', editImageId: 'img_AAAAAAAAAAAAAAAAAAAAAA' },
    404,
    'image_not_found',
    'image_id',
  ],
  ['not JSON', '{', 400, 'invalid_json', null],
])('%s is refused precisely', async (_what, body, status, code, param) => {
  const session = await createBrowserSession(server.url, ORIGIN);
  const res = await call(session, 'POST', '/generations', body);
  expect([res.status, res.body.error?.code, res.body.error?.param]).toEqual([status, code, param]);
});

test('unknown, malformed and foreign generation ids; a wrong secret', async () => {
  const session = await createBrowserSession(server.url, ORIGIN);
  const other = await createBrowserSession(server.url, ORIGIN);
  const theirs = await call(other, 'POST', '/generations', { prompt: 'a castle', quality: 'high' });
  const foreign = await call(session, 'GET', `/generations/${theirs.body.generationId}`);
  expect([foreign.status, foreign.body.error?.code]).toEqual([404, 'generation_not_found']);
  const bad = await call(session, 'GET', '/generations/gen_..%2F..');
  expect([bad.status, bad.body.error?.code]).toEqual([400, 'invalid_generation_id']);
  const wrong = await call(session, 'POST', '/generations', { prompt: 'x' }, 'not-the-secret');
  expect([wrong.status, wrong.body.error?.code]).toEqual([403, 'invalid_session_secret']);
});

test('a session whose budget is spent: asking and confirming are 429 session_budget_exceeded, as the voice door says', async () => {
  const local = await startDevServer({
    env: { PORT: '8787', IMAGE_GENERATION: 'true', SESSION_MAX_COST_USD: '0.05' },
    imageGeneration: { generator },
  });
  try {
    const session = await createBrowserSession(local.url, ORIGIN);
    const waiting = await call(
      session,
      'POST',
      '/generations',
      { prompt: 'a fox', quality: 'high' },
      undefined,
      local.url,
    );
    expect(waiting.body.status).toBe('awaiting_confirmation');
    // The session's turns spend its budget (what chat adds after each turn).
    const { dynamo } = await createBrowserApiClients(local.dev.browser);
    // A 300 ms deadline drops the write on a loaded machine (the budget failing open): 5 s here.
    const budget = new SessionBudget({
      client: dynamo,
      tableName: LOCAL_NAMES.controlTable,
      timeoutMs: 5000,
      log: () => {},
    });
    await budget.addUsage(session.sessionId, { tokensIn: 1000, tokensOut: 100, costUsd: 0.06 });
    const before = generator.calls.length;

    const asked = await call(session, 'POST', '/generations', { prompt: 'a fox' }, undefined, local.url);
    const confirmed = await call(
      session,
      'POST',
      `/generations/${waiting.body.generationId}/confirm`,
      undefined,
      undefined,
      local.url,
    );
    for (const refused of [asked, confirmed]) {
      expect(refused.status).toBe(429);
      expect(refused.body.error?.code).toBe('session_budget_exceeded');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // The voice door refuses the same session with the same code.
    const turn = await fetch(`${local.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-4o',
        stream: true,
        messages: [{ role: 'user', content: 'Draw a fox.' }],
        elevenlabs_extra_body: { session_id: session.sessionId },
      }),
    });
    expect(turn.status).toBe(429);
    expect(((await turn.json()) as { error: { code: string } }).error.code).toBe('session_budget_exceeded');
    await backgroundSettled();
    expect(generator.calls.length).toBe(before);
    const still = await call(
      session,
      'GET',
      `/generations/${waiting.body.generationId}`,
      undefined,
      undefined,
      local.url,
    );
    expect(still.body.status).toBe('awaiting_confirmation');
  } finally {
    await local.close();
  }
});
