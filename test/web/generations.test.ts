// The browser client's generation calls (web/client) in Node against the whole local product with
// IMAGE_GENERATION=true: ask (started at once under the auto-approve amount, else an estimate to
// confirm), confirm, poll until done, cancel, list; and the API's precise codes as VisionApiError.
import sharp from 'sharp';
import { createSession, type PublicGeneration, VisionApiError } from '../../web/client';
import { type RunningDevServer, startDevServer } from '../helpers/dev-server';
import { catalogEntry, createPngGenerator, type PngGenerator } from '../helpers/png-generator';

const ORIGIN = 'https://app.example.com';
let dev: RunningDevServer;
let generator: PngGenerator;

beforeAll(async () => {
  generator = createPngGenerator([
    catalogEntry({ id: 'cheap:flux-schnell:medium', priceUsd: 0.003 }),
    catalogEntry({ id: 'openai:gpt-image-1:high', quality: 'high', priceUsd: 0.167 }),
  ]);
  dev = await startDevServer({
    env: {
      ALLOWED_ORIGINS: ORIGIN,
      IMAGE_GENERATION: 'true',
      IMAGE_MODERATION: 'off',
      IMAGE_LIMIT_PER_USER_PER_HOUR: '100',
    },
    imageGeneration: { generator },
  });
});
afterAll(async () => {
  await dev?.close();
});

const open = () => createSession({ apiUrl: dev.url, headers: { origin: ORIGIN } });

test('under the auto-approve amount: queued at once, polled to ready with the image URL, listed', async () => {
  const session = await open();
  const asked = await session.generate('a red bicycle', { quality: 'medium', aspect: 'landscape' });
  expect(asked).toMatchObject({
    status: 'queued',
    estimateUsd: 0.003,
    chosen: { provider: 'cheap', model: 'flux-schnell' },
  });
  const seen: string[] = [];
  const done = await session.waitForGeneration(asked.generationId, {
    intervalMs: 20,
    onUpdate: (g) => seen.push(g.status),
  });
  expect(done).toMatchObject({
    status: 'ready',
    provider: 'cheap',
    model: 'flux-schnell',
    costUsd: 0.003,
    fallbackUsed: false,
    error: null,
  });
  expect(seen.at(-1)).toBe('ready');
  // The presigned URL serves the provider's original image.
  const res = await fetch(done.imageUrl!);
  expect(res.status).toBe(200);
  expect(await sharp(Buffer.from(await res.arrayBuffer())).metadata()).toMatchObject({
    format: 'png',
    width: 96,
    height: 64,
  });
  const listed = await session.listGenerations();
  expect(listed.map((g) => [g.generationId, g.status])).toEqual([[asked.generationId, 'ready']]);
  expect((await session.listImages()).map((i) => i.imageId)).toContain(done.imageId);
});

test('above it: the estimate waits; confirm starts it once (a second confirm charges nothing); cancel a waiting one', async () => {
  const session = await open();
  const asked = await session.generate('a castle at dusk', { quality: 'high' });
  expect(asked).toMatchObject({
    status: 'awaiting_confirmation',
    estimateUsd: 0.167,
    chosen: { provider: 'openai', model: 'gpt-image-1' },
  });
  expect(asked.confirmBy).not.toBeNull();
  // Waiting only until it asks for confirmation answers at once.
  expect(
    (await session.waitForGeneration(asked.generationId, { until: ['awaiting_confirmation'] })).status,
  ).toBe('awaiting_confirmation');
  const before = generator.calls.length;
  const confirmed = await session.confirmGeneration(asked.generationId);
  expect(['queued', 'running', 'ready']).toContain(confirmed.status);
  const done = await session.waitForGeneration(asked.generationId, { intervalMs: 20 });
  expect(done).toMatchObject({ status: 'ready', costUsd: 0.167, model: 'gpt-image-1' });
  expect((await session.confirmGeneration(asked.generationId)).status).toBe('ready');
  expect(generator.calls.length - before).toBe(1);

  const other = await session.generate('a dragon', { quality: 'high' });
  expect((await session.cancelGeneration(other.generationId)).status).toBe('cancelled');
  expect((await session.listGenerations()).map((g) => g.status).sort()).toEqual(['cancelled', 'ready']);
});

test("the API's codes surface as VisionApiError", async () => {
  const session = await open();
  const empty = await session.generate('   ').catch((e: unknown) => e);
  expect(empty).toBeInstanceOf(VisionApiError);
  expect(empty).toMatchObject({ status: 400, code: 'invalid_request', extra: { param: 'prompt' } });
  expect(await session.getGeneration('not-an-id').catch((e: unknown) => e)).toMatchObject({
    status: 400,
    code: 'invalid_generation_id',
  });
  const ready = await session.generate('a blue cup');
  await session.waitForGeneration(ready.generationId, { intervalMs: 20 });
  expect(await session.cancelGeneration(ready.generationId).catch((e: unknown) => e)).toMatchObject({
    status: 409,
    code: 'generation_not_cancellable',
  });
  const cancelled = await session.generate('a green cup', { quality: 'high' });
  await session.cancelGeneration(cancelled.generationId);
  expect(await session.confirmGeneration(cancelled.generationId).catch((e: unknown) => e)).toMatchObject({
    status: 409,
    code: 'generation_not_confirmable',
  });
  // Another session's generation does not exist for this one.
  const stranger = await open();
  expect(await stranger.getGeneration(ready.generationId).catch((e: unknown) => e)).toMatchObject({
    status: 404,
    code: 'generation_not_found',
  });
});

test('polling stops when its signal aborts: VisionApiError aborted', async () => {
  const session = await open();
  const waiting = await session.generate('a lighthouse', { quality: 'high' });
  const stop = new AbortController();
  const reads: PublicGeneration[] = [];
  const err = await session
    .waitForGeneration(waiting.generationId, {
      signal: stop.signal,
      intervalMs: 60_000,
      onUpdate: (g) => {
        reads.push(g);
        stop.abort();
      },
    })
    .catch((e: unknown) => e);
  expect(err).toMatchObject({ status: 0, code: 'aborted' });
  expect(reads.map((g) => g.status)).toEqual(['awaiting_confirmation']);
});
