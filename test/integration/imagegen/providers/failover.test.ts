// The image runner end to end: generator built from the environment (loadImageGeneratorSettings, then composeImageGenerator),
// two OpenAI-compatible fakes on loopback, and the real persistent breaker on the embedded
// DynamoDB. The fault matrix: 500, 429 with retry-after, refusal, hang, malformed image; the
// breaker opening, skipping, probing; what a failed run reports.

import { type Emulators, startEmulators } from '../../../../infra/local/emulators';
import { backgroundSettled } from '../../../../shared/background';
import { loadImageGeneratorSettings } from '../../../../shared/imagegen/config';
import { ImageGenerationFailedError, ImageRefusedError } from '../../../../shared/imagegen/generation-errors';
import type { ImageRunSettings } from '../../../../shared/imagegen/policy';
import type { ImageRunner } from '../../../../shared/imagegen/runner';
import { composeImageGenerator } from '../../../../shared/imagegen/setup';
import type { CatalogEntry, ImageRequest } from '../../../../shared/imagegen/types';
import {
  type ImageUpstream,
  imagesAnswer,
  openaiError,
  solidPng,
  startImageUpstream,
} from '../../../fakes/image-upstream';
import { rejectionOf } from '../../../helpers/rejection';
import { CONTROL_TABLE, type Container, container, TestClock } from '../../routing/breaker-harness';

let emu: Emulators;
let primary: ImageUpstream;
let secondary: ImageUpstream;
let png: Buffer;
const clock = new TestClock(Date.UTC(2026, 11, 3, 12));
let seq = 0;

beforeAll(async () => {
  emu = await startEmulators({ tables: [CONTROL_TABLE], buckets: [] });
  [primary, secondary] = await Promise.all([startImageUpstream(), startImageUpstream()]);
  png = await solidPng(16, 16);
});
afterAll(async () => {
  await Promise.all([primary.close(), secondary.close()]);
  await emu.close();
});
beforeEach(() => {
  primary.requests.length = 0;
  secondary.requests.length = 0;
});

interface Rig {
  gen: ImageRunner;
  entries: CatalogEntry[];
  first: CatalogEntry;
  second: CatalogEntry;
  box: Container;
}

/** A generator over two fresh entries (fresh breaker targets), as a deployed stack would build it. */
function rig(settings: Partial<ImageRunSettings> = {}): Rig {
  seq += 1;
  const entry = (provider: string, price: number, priority: number) => ({
    provider,
    model: 'flux-test',
    quality: 'medium',
    sizes: { square: '1024x1024', landscape: '1344x768', portrait: '768x1344' },
    priceUsd: price,
    priceSource: 'test',
    priority,
    edits: false,
  });
  // A generous store timeout: on a loaded machine a 300 ms write would be dropped (the breaker fails open).
  const box = container(emu, clock, { failureThreshold: 2, cacheTtlMs: 0, storeTimeoutMs: 5000 });
  const { generator } = composeImageGenerator(
    loadImageGeneratorSettings({
      // Deployed: echo is off, so only the two fakes can answer.
      REQUIRE_CHAT_API_KEY: 'true',
      IMAGE_PROVIDERS: JSON.stringify({
        primary: { baseURL: `${primary.url}/v1` },
        secondary: { baseURL: `${secondary.url}/v1` },
      }),
      IMAGE_CATALOG: JSON.stringify({
        [`primary:flux-test:${seq}`]: entry('primary', 0.02, 1),
        [`secondary:flux-test:${seq}`]: entry('secondary', 0.03, 2),
      }),
    }),
    { breaker: box.breaker, settings: { backoffBaseMs: 5, backoffMaxMs: 10, ...settings } },
  );
  const mine = generator.catalog.filter((e) => e.id.endsWith(`:${seq}`));
  return { gen: generator, entries: mine, first: mine[0]!, second: mine[1]!, box };
}

const ask: ImageRequest = { prompt: 'a red kite over the sea', quality: 'medium', aspect: 'square' };
const never = () => new AbortController().signal;

async function breakerOf(r: Rig, entry: CatalogEntry) {
  await backgroundSettled();
  return (await r.box.breaker.snapshot([`image:${entry.id}`]))[`image:${entry.id}`]!;
}

test('candidates: configured and enabled entries of the quality, in priority order (echo is off when deployed)', async () => {
  const r = rig();
  const c = await r.gen.candidates({ quality: 'medium' });
  const ids = c.map((e) => e.id);
  expect(ids.filter((id) => id.endsWith(`:${seq}`))).toEqual([r.first.id, r.second.id]);
  expect(ids.some((id) => id.startsWith('echo:'))).toBe(false);
  // No key for OpenAI, Google, Together or Replicate in this environment: none of theirs.
  expect(ids.every((id) => id.startsWith('primary:') || id.startsWith('secondary:'))).toBe(true);
  expect(
    await r.gen.candidates({ quality: 'medium', source: { bytes: png, mimeType: 'image/png' } }),
  ).toEqual([]);
});

test('500 twice (the retry included) fails over: attempts recorded, fallbackUsed, cost is the answering entry price', async () => {
  const r = rig();
  primary.enqueue(
    openaiError(500, 'boom', { type: 'server_error' }),
    openaiError(500, 'boom again', { type: 'server_error' }),
  );
  secondary.enqueue(imagesAnswer(png));
  const result = await r.gen.generate(ask, r.entries, never());
  expect(result.entry.id).toBe(r.second.id);
  expect(result.fallbackUsed).toBe(true);
  expect(result.costUsd).toBe(0.03);
  expect(result.attempts.map((a) => [a.entryId, a.ok, a.errorClass])).toEqual([
    [r.first.id, false, 'http_5xx'],
    [r.first.id, false, 'http_5xx'],
    [r.second.id, true, undefined],
  ]);
  expect(Buffer.from(result.image.bytes).equals(png)).toBe(true);
  expect((await breakerOf(r, r.first)).recentFailures).toBe(2);
});

test('429 with a short retry-after is retried on the same entry, no failover and no breaker failure', async () => {
  const r = rig();
  primary.enqueue(openaiError(429, 'slow down', { headers: { 'retry-after-ms': '30' } }), imagesAnswer(png));
  const result = await r.gen.generate(ask, r.entries, never());
  expect([result.entry.id, result.fallbackUsed, result.costUsd]).toEqual([r.first.id, false, 0.02]);
  expect(primary.requests).toHaveLength(2);
  expect(secondary.requests).toHaveLength(0);
  expect((await breakerOf(r, r.first)).recentFailures).toBe(0);
});

test('429 asking to wait longer than IMAGE_MAX_RETRY_AFTER_MS fails over at once', async () => {
  const r = rig({ maxRetryAfterMs: 1000 });
  primary.enqueue(openaiError(429, 'slow down', { headers: { 'retry-after': '60' } }));
  secondary.enqueue(imagesAnswer(png));
  const result = await r.gen.generate(ask, r.entries, never());
  expect(result.entry.id).toBe(r.second.id);
  expect(primary.requests).toHaveLength(1);
});

test('a content refusal is the answer: thrown with its attempts, never failed over, never counted by the breaker', async () => {
  const r = rig();
  for (let i = 0; i < 3; i++) {
    primary.enqueue(
      openaiError(400, 'Your request was rejected by our safety system.', { code: 'moderation_blocked' }),
    );
    const err = await rejectionOf(r.gen.generate(ask, r.entries, never()));
    expect(err).toBeInstanceOf(ImageRefusedError);
    expect((err as ImageRefusedError).attempts).toEqual([
      { entryId: r.first.id, ok: false, errorClass: 'refused', ms: expect.any(Number) },
    ]);
  }
  expect(secondary.requests).toHaveLength(0);
  const state = await breakerOf(r, r.first);
  expect([state.state, state.recentFailures]).toEqual(['closed', 0]);
});

test('a hang is cut by the per-attempt timeout and fails over; the timeout counts against the breaker', async () => {
  const r = rig({ attemptTimeoutMs: 150, maxRetriesPerEntry: 0 });
  primary.enqueue({ kind: 'hang' });
  secondary.enqueue(imagesAnswer(png));
  const result = await r.gen.generate(ask, r.entries, never());
  expect(result.entry.id).toBe(r.second.id);
  expect(result.attempts[0]).toMatchObject({ entryId: r.first.id, ok: false, errorClass: 'timeout' });
  expect((await breakerOf(r, r.first)).lastErrorClass).toBe('timeout');
});

test('malformed image data fails over (not retried: the same answer would come back) and counts against the breaker', async () => {
  const r = rig();
  primary.enqueue(imagesAnswer(Buffer.from('<html>not an image</html>')));
  secondary.enqueue(imagesAnswer(png));
  const result = await r.gen.generate(ask, r.entries, never());
  expect(result.attempts.map((a) => a.errorClass)).toEqual(['malformed_image', undefined]);
  expect(primary.requests).toHaveLength(1);
  expect((await breakerOf(r, r.first)).recentFailures).toBe(1);
});

test('the breaker opens after the threshold, candidates skip the entry, generate records it as circuit_open; one probe later closes it', async () => {
  const r = rig({ maxRetriesPerEntry: 0 });
  for (let i = 0; i < 2; i++) {
    primary.enqueue(openaiError(503, 'overloaded', { type: 'server_error' }));
    secondary.enqueue(imagesAnswer(png));
    await r.gen.generate(ask, r.entries, never());
  }
  expect((await breakerOf(r, r.first)).state).toBe('open');
  const now = await r.gen.candidates({ quality: 'medium' });
  expect(now.map((e) => e.id)).not.toContain(r.first.id);
  expect(now.map((e) => e.id)).toContain(r.second.id);

  // Handed the old list anyway (an estimate made before it opened): skipped, not called.
  secondary.enqueue(imagesAnswer(png));
  const skipped = await r.gen.generate(ask, r.entries, never());
  expect(skipped.attempts[0]).toEqual({ entryId: r.first.id, ok: false, errorClass: 'circuit_open', ms: 0 });
  expect(primary.requests).toHaveLength(2);

  // After the cooldown exactly one probe goes; its success closes the breaker.
  clock.advance(31_000);
  expect((await r.gen.candidates({ quality: 'medium' })).map((e) => e.id)).toContain(r.first.id);
  primary.enqueue(imagesAnswer(png));
  const probed = await r.gen.generate(ask, r.entries, never());
  expect(probed.entry.id).toBe(r.first.id);
  expect((await breakerOf(r, r.first)).state).toBe('closed');
});

test('when every entry fails the error names each and carries the attempts; all rate-limited is a 429', async () => {
  const r = rig({ maxRetriesPerEntry: 0 });
  primary.enqueue(openaiError(502, 'bad gateway', { type: 'server_error' }));
  secondary.enqueue(imagesAnswer('%%%'));
  const err = (await rejectionOf(r.gen.generate(ask, r.entries, never()))) as ImageGenerationFailedError;
  expect(err).toBeInstanceOf(ImageGenerationFailedError);
  expect([err.status, err.code]).toEqual([502, 'image_generation_failed']);
  expect(err.message).toContain(`${r.first.id}: primary failed with HTTP 502`);
  expect(err.message).toContain(`${r.second.id}: secondary returned no usable image`);
  expect(err.attempts.map((a) => a.errorClass)).toEqual(['http_5xx', 'malformed_image']);

  primary.enqueue(openaiError(429, 'limit', { headers: { 'retry-after': '40' } }));
  secondary.enqueue(openaiError(429, 'limit', { headers: { 'retry-after': '20' } }));
  const limited = (await rejectionOf(r.gen.generate(ask, r.entries, never()))) as ImageGenerationFailedError;
  expect([limited.status, limited.retryAfterSeconds]).toEqual([429, 40]);
});

test('no entry at all is a 503 no_image_provider_available; a cancelled run stops at once', async () => {
  const r = rig();
  const none = (await rejectionOf(r.gen.generate(ask, [], never()))) as ImageGenerationFailedError;
  expect([none.status, none.code]).toEqual([503, 'no_image_provider_available']);

  primary.enqueue({ kind: 'hang' });
  const ctrl = new AbortController();
  setTimeout(() => ctrl.abort(), 50);
  const cancelled = (await rejectionOf(
    r.gen.generate(ask, r.entries, ctrl.signal),
  )) as ImageGenerationFailedError;
  expect(cancelled.code).toBe('generation_cancelled');
  expect(secondary.requests).toHaveLength(0);
  expect((await breakerOf(r, r.first)).recentFailures).toBe(0);
});

/** Opens the first entry's breaker (threshold 2) with two failing runs served by the second. */
async function openFirst(r: Rig): Promise<void> {
  for (let i = 0; i < 2; i++) {
    primary.enqueue(openaiError(503, 'overloaded', { type: 'server_error' }));
    secondary.enqueue(imagesAnswer(png));
    await r.gen.generate(ask, r.entries, never());
  }
  expect((await breakerOf(r, r.first)).state).toBe('open');
}

test('one half-open probe at a time: while it runs, another generation skips the entry', async () => {
  const r = rig({ maxRetriesPerEntry: 0, attemptTimeoutMs: 5000 });
  await openFirst(r);
  clock.advance(31_000);
  const before = primary.requests.length;
  primary.enqueue({ kind: 'hang' });
  const probeRun = new AbortController();
  const probing = r.gen.generate(ask, r.entries, probeRun.signal).catch((e: unknown) => e);
  while (primary.requests.length === before) await new Promise((res) => setTimeout(res, 5));

  secondary.enqueue(imagesAnswer(png));
  const other = await r.gen.generate(ask, r.entries, never());
  expect(other.attempts[0]).toEqual({ entryId: r.first.id, ok: false, errorClass: 'circuit_open', ms: 0 });
  expect(other.entry.id).toBe(r.second.id);
  expect(primary.requests.length).toBe(before + 1);
  probeRun.abort();
  await probing;
});

test('a probe answered with a refusal closes the breaker: the provider is up, the prompt was refused', async () => {
  const r = rig({ maxRetriesPerEntry: 0 });
  await openFirst(r);
  clock.advance(31_000);
  primary.enqueue(openaiError(400, 'Rejected by our safety system.', { code: 'moderation_blocked' }));
  expect(await rejectionOf(r.gen.generate(ask, r.entries, never()))).toBeInstanceOf(ImageRefusedError);
  expect((await breakerOf(r, r.first)).state).toBe('closed');
});
