// The Replicate provider against a loopback fake of Replicate's predictions API: create with
// `Prefer: wait`, poll until a terminal status, cancel on our timeout, download the output with
// the SSRF-safe fetch (widened to loopback for this test only), and each way a prediction fails.

import { UpstreamError } from '../../../../shared/errors';
import { DEFAULT_IMAGE_CATALOG } from '../../../../shared/imagegen/catalog';
import { ImageRefusedError } from '../../../../shared/imagegen/generation-errors';
import { loadImageProviderConfigs } from '../../../../shared/imagegen/provider-config';
import { createImageProviders, type ImageProviders } from '../../../../shared/imagegen/providers/registry';
import type { CatalogEntry, ImageRequest } from '../../../../shared/imagegen/types';
import { type ImageUpstream, prediction, solidPng, startImageUpstream } from '../../../fakes/image-upstream';
import { rejectionOf } from '../../../helpers/rejection';

let fake: ImageUpstream;
let png: Buffer;
let providers: ImageProviders;
let strict: ImageProviders;

const schnell = DEFAULT_IMAGE_CATALOG.find((e) => e.id === 'replicate:black-forest-labs/flux-schnell:low')!;
const ask = (over: Partial<ImageRequest> = {}): ImageRequest => ({
  prompt: 'a lighthouse at dawn',
  quality: 'low',
  aspect: 'landscape',
  ...over,
});
const run = (p: ImageProviders, entry: CatalogEntry = schnell, signal = new AbortController().signal) =>
  p.get('replicate')!.generate({ entry, request: ask(), signal });

beforeAll(async () => {
  fake = await startImageUpstream();
  png = await solidPng(48, 32, '#aa5500');
  fake.route('/files/out.png', { kind: 'bytes', status: 200, body: png, contentType: 'image/png' });
  fake.route('/files/notes.txt', {
    kind: 'bytes',
    status: 200,
    body: Buffer.from('not a picture'),
    contentType: 'image/png',
  });
  const env = { REPLICATE_API_TOKEN: 'r8_token', REPLICATE_BASE_URL: `${fake.url}/v1` };
  providers = createImageProviders(loadImageProviderConfigs(env), {
    timeoutMs: 5000,
    // The fake serves its output on loopback over http: allowed for this test only.
    replicate: {
      pollIntervalMs: 5,
      outputFetch: { allowHttp: true, addressPolicy: (ip) => ip === '127.0.0.1' },
    },
  });
  strict = createImageProviders(loadImageProviderConfigs(env), {
    timeoutMs: 5000,
    replicate: { pollIntervalMs: 5 },
  });
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.requests.length = 0;
});

test('create with Prefer: wait answers succeeded: one POST, then the output is downloaded and sniffed', async () => {
  fake.enqueue(prediction('p1', 'succeeded', { output: [`${fake.url}/files/out.png`] }));
  const image = await run(providers);
  const create = fake.requests[0]!;
  expect(create.method).toBe('POST');
  expect(create.path).toBe('/v1/models/black-forest-labs/flux-schnell/predictions');
  expect(create.headers.authorization).toBe('Bearer r8_token');
  expect(create.headers.prefer).toBe('wait=55');
  expect(create.json).toEqual({
    input: { prompt: 'a lighthouse at dawn', aspect_ratio: '3:2', num_outputs: 1, output_format: 'png' },
  });
  expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
    'POST /v1/models/black-forest-labs/flux-schnell/predictions',
    'GET /files/out.png',
  ]);
  // The download carries none of our credentials.
  expect(fake.requests[1]!.headers.authorization).toBeUndefined();
  expect(Buffer.from(image.bytes).equals(png)).toBe(true);
  expect(image.mimeType).toBe('image/png');
});

test('a prediction still running after the wait is polled with GET /v1/predictions/{id} until it succeeds', async () => {
  fake.enqueue(
    prediction('p2', 'starting'),
    prediction('p2', 'processing'),
    prediction('p2', 'succeeded', { output: `${fake.url}/files/out.png` }),
  );
  const image = await run(providers);
  expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
    'POST /v1/models/black-forest-labs/flux-schnell/predictions',
    'GET /v1/predictions/p2',
    'GET /v1/predictions/p2',
    'GET /files/out.png',
  ]);
  expect(fake.requests[1]!.headers.authorization).toBe('Bearer r8_token');
  expect(image.bytes.length).toBe(png.length);
});

test('a pinned version ("owner/name:version") is created through POST /v1/predictions', async () => {
  fake.enqueue(prediction('p3', 'succeeded', { output: [`${fake.url}/files/out.png`] }));
  await run(providers, { ...schnell, model: 'someone/sdxl:abc123' });
  expect(fake.requests[0]!.path).toBe('/v1/predictions');
  expect(fake.requests[0]!.json).toMatchObject({
    version: 'abc123',
    input: { prompt: 'a lighthouse at dawn' },
  });
});

test('failed with an NSFW error is the user answer: an ImageRefusedError', async () => {
  fake.enqueue(
    prediction('p4', 'starting'),
    prediction('p4', 'failed', {
      error: 'NSFW content detected. Try running it again, or try a different prompt.',
    }),
  );
  const err = await rejectionOf(run(providers));
  expect(err).toBeInstanceOf(ImageRefusedError);
  expect((err as ImageRefusedError).providerCode).toBe('nsfw');
  expect((err as ImageRefusedError).message).toMatch(
    /^replicate refused to make this image: NSFW content detected/,
  );
});

test('failed for another reason, or canceled, is a provider failure to fail over from', async () => {
  fake.enqueue(prediction('p5', 'failed', { error: 'CUDA error: out of memory' }));
  const failed = (await rejectionOf(run(providers))) as UpstreamError;
  expect(failed).toBeInstanceOf(UpstreamError);
  expect(failed.errorClass).toBe('prediction_failed');
  expect(failed.message).toMatch(/p5 failed: CUDA error: out of memory/);
  fake.enqueue(prediction('p6', 'canceled'));
  expect(((await rejectionOf(run(providers))) as UpstreamError).errorClass).toBe('prediction_canceled');
});

test('when our timeout fires while it runs, the prediction is cancelled on Replicate and the timeout is the error', async () => {
  fake.enqueue(prediction('p7', 'starting'));
  fake.route('/v1/predictions/p7', (req) =>
    req.path.endsWith('/cancel') ? prediction('p7', 'canceled') : prediction('p7', 'processing'),
  );
  const ctrl = new AbortController();
  const running = run(providers, schnell, ctrl.signal);
  // Polled at least twice (still processing), then our attempt timeout fires.
  while (fake.requests.filter((r) => r.method === 'GET').length < 2)
    await new Promise((r) => setTimeout(r, 5));
  ctrl.abort(new UpstreamError('attempt timeout', { status: 504, errorClass: 'timeout', retryable: true }));
  const err = (await rejectionOf(running)) as UpstreamError;
  expect(err.errorClass).toBe('timeout');
  // The cancel is sent without waiting for it: give it up to 2 s to arrive.
  for (let i = 0; i < 400 && !fake.requests.some((r) => r.path === '/v1/predictions/p7/cancel'); i++)
    await new Promise((r) => setTimeout(r, 5));
  expect(fake.requests.find((r) => r.path === '/v1/predictions/p7/cancel')).toMatchObject({
    method: 'POST',
    headers: expect.objectContaining({ authorization: 'Bearer r8_token' }),
  });
});

test('HTTP errors map like the SDK providers: 429 keeps retry-after, 401 is an auth failure', async () => {
  fake.enqueue({
    kind: 'json',
    status: 429,
    body: { title: 'Too Many Requests', detail: 'Request was throttled.', status: 429 },
    headers: { 'retry-after': '2' },
  });
  const limited = (await rejectionOf(run(providers))) as UpstreamError;
  expect([limited.errorClass, limited.retryAfterMs, limited.retryable]).toEqual(['http_429', 2000, true]);
  expect(limited.message).toMatch(/Request was throttled/);
  fake.enqueue({
    kind: 'json',
    status: 401,
    body: { title: 'Unauthenticated', detail: 'Invalid token.', status: 401 },
  });
  expect(((await rejectionOf(run(providers))) as UpstreamError).code).toBe('upstream_auth_failed');
});

test('an output that is not an image is malformed_image', async () => {
  fake.enqueue(prediction('p8', 'succeeded', { output: [`${fake.url}/files/notes.txt`] }));
  const err = (await rejectionOf(run(providers))) as UpstreamError;
  expect(err.errorClass).toBe('malformed_image');
});

test('by default the output URL must be public https: a loopback output is refused, never fetched (SSRF)', async () => {
  fake.enqueue(prediction('p9', 'succeeded', { output: [`${fake.url}/files/out.png`] }));
  const err = (await rejectionOf(run(strict))) as UpstreamError;
  expect(err.errorClass).toBe('output_fetch_failed');
  expect(fake.requests.map((r) => r.path)).toEqual(['/v1/models/black-forest-labs/flux-schnell/predictions']);
});
