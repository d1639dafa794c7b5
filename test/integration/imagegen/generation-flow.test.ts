// The generation's life over the emulators: auto-approved and confirmed generations run once
// (two confirmations, two deliveries), the image joins the session like an upload (original and
// normalized copy in S3, marked generated with its prompt), its cost reaches the session budget,
// and every way a generation can end (expired, cancelled, failed with a reason) is recorded.
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { backgroundSettled } from '../../../shared/background';
import { SessionBudget } from '../../../shared/limits/budget';
import { BUCKET, CONTROL_TABLE, startTestStorage, type TestStorage } from '../sessions/harness';
import { genHarness, rejection } from './harness';

let storage: TestStorage;
beforeAll(async () => {
  storage = await startTestStorage();
});
afterAll(() => storage.close());

let n = 0;
const requester = () => `ip:10.0.0.${++n}`;

async function objectKeys(sessionId: string): Promise<string[]> {
  const out = await storage.clients.s3.send(
    new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `images/${sessionId}/` }),
  );
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

const ask = (
  h: ReturnType<typeof genHarness>,
  session: Awaited<ReturnType<typeof h.newSession>>,
  extra = {},
) =>
  h.service.ask({
    session,
    prompt: 'a sunset over Paris',
    options: { quality: 'medium', aspect: 'landscape' },
    origin: 'browser',
    requester: requester(),
    ...extra,
  });

test('under the auto-approve amount: queued at once, run once, stored like an upload, cost counted', async () => {
  const h = genHarness(storage);
  const session = await h.newSession();
  const asked = await ask(h, session);
  expect(asked).toMatchObject({ status: 'queued', estimateUsd: 0.003, approvedUsd: 0.02 });
  expect(asked.chosen.entryId).toBe('cheap:flux-schnell:medium');
  expect(asked.alternatives.map((a) => a.entryId)).toEqual(['dear:gpt-image-1:medium']);
  await backgroundSettled();

  const done = await h.service.get(session.sessionId, asked.generationId);
  expect(done).toMatchObject({
    status: 'ready',
    provider: 'cheap',
    model: 'flux-schnell',
    costUsd: 0.003,
    fallbackUsed: false,
    attempts: [{ entryId: 'cheap:flux-schnell:medium', ok: true }],
  });
  expect(h.generator.calls).toHaveLength(1);
  // The job only offers entries within the approved amount.
  expect(h.generator.calls[0]!.entries.map((e) => e.id)).toEqual(['cheap:flux-schnell:medium']);

  const image = await h.store.getImage(session.sessionId, done.imageId!);
  expect(image).toMatchObject({
    status: 'ready',
    source: 'generated',
    prompt: 'a sunset over Paris',
    generationId: asked.generationId,
    mime: 'image/jpeg',
    width: 96,
    height: 64,
    originalMime: 'image/png',
  });
  const keys = await objectKeys(session.sessionId);
  expect(keys).toEqual([image!.key, image!.originalKey].sort());
  const original = await h.objects.read(image!.originalKey!, 1e7);
  expect(original.kind === 'bytes' && (await sharp(original.bytes).metadata()).format).toBe('png');
  // The next turn's context includes it.
  const ctx = await h.store.loadSessionContext(session.sessionId);
  expect(ctx?.images.map((i) => i.imageId)).toEqual([done.imageId]);

  const budget = new SessionBudget({
    client: storage.clients.dynamo,
    tableName: CONTROL_TABLE,
    log: () => {},
  });
  expect((await budget.usage(session.sessionId))?.costUsd).toBeCloseTo(0.003, 9);
});

test('above it: awaits confirmation; two confirmations and two deliveries generate (and charge) once', async () => {
  const h = genHarness(storage, { config: { autoApproveUsd: 0.01 } });
  const session = await h.newSession();
  const asked = await ask(h, session, { options: { quality: 'high', aspect: 'square' } });
  expect(asked).toMatchObject({ status: 'awaiting_confirmation', estimateUsd: 0.167 });
  expect(h.generator.calls).toHaveLength(0);

  const [a, b] = await Promise.all([
    h.service.confirm(session.sessionId, asked.generationId),
    h.service.confirm(session.sessionId, asked.generationId),
  ]);
  expect([a.status, b.status].every((s) => ['queued', 'running', 'ready'].includes(s))).toBe(true);
  await backgroundSettled();
  // The same job delivered again (Lambda's retry, a duplicate invoke): claimed already, skipped.
  const again = await h.gen.runJob({ sessionId: session.sessionId, generationId: asked.generationId });
  expect(again).toEqual({ kind: 'skipped', status: 'ready' });
  expect(h.generator.calls).toHaveLength(1);
  const done = await h.service.confirm(session.sessionId, asked.generationId);
  expect(done).toMatchObject({ status: 'ready', approvedUsd: 0.167, costUsd: 0.167 });
  expect(h.lines.some((l) => l.msg === 'generation job skipped: not queued')).toBe(true);
});

test('an unconfirmed generation expires; confirming it then is 410 generation_expired', async () => {
  const h = genHarness(storage, { config: { autoApproveUsd: 0 } });
  const session = await h.newSession();
  const asked = await ask(h, session);
  h.clock.now += 601_000;
  expect((await h.service.get(session.sessionId, asked.generationId)).status).toBe('expired');
  const err = await rejection(h.service.confirm(session.sessionId, asked.generationId));
  expect([err.status, err.code]).toEqual([410, 'generation_expired']);
  expect(h.generator.calls).toHaveLength(0);
});

test('cancel: a waiting generation is cancelled (repeatably), never confirmed after; a finished one is 409', async () => {
  const h = genHarness(storage, { config: { autoApproveUsd: 0 } });
  const session = await h.newSession();
  const asked = await ask(h, session);
  expect((await h.service.cancel(session.sessionId, asked.generationId)).status).toBe('cancelled');
  expect((await h.service.cancel(session.sessionId, asked.generationId)).status).toBe('cancelled');
  const err = await rejection(h.service.confirm(session.sessionId, asked.generationId));
  expect([err.status, err.code]).toEqual([409, 'generation_not_confirmable']);

  const other = await ask(h, session);
  await h.service.confirm(session.sessionId, other.generationId);
  await backgroundSettled();
  const late = await rejection(h.service.cancel(session.sessionId, other.generationId));
  expect([late.status, late.code]).toEqual([409, 'generation_not_cancellable']);
});

test('nothing stays queued or running forever: a job never started, a job that died', async () => {
  const h = genHarness(storage, { startJob: () => async () => {} });
  const session = await h.newSession();
  const neverStarted = await ask(h, session);
  expect(neverStarted.status).toBe('queued');
  const died = await ask(h, session);
  await h.gen.generations.claim(session.sessionId, died.generationId, 'a-job-that-dies');
  const states = async () => {
    const list = await h.service.list(session.sessionId);
    return [neverStarted, died].map((g) => list.find((r) => r.generationId === g.generationId)!);
  };
  // Within their deadlines (queued: 5 min; running: the job timeout plus a minute) they stand.
  h.clock.now += 60_000;
  expect((await states()).map((r) => r.status)).toEqual(['queued', 'running']);
  h.clock.now += 4 * 60_000;
  const [a, b] = await states();
  expect(a).toMatchObject({ status: 'failed', error: { code: 'job_not_started' } });
  expect(b).toMatchObject({ status: 'failed', error: { code: 'job_lost' } });
  // Settled once: the stored record says so too.
  expect((await h.gen.generations.get(session.sessionId, died.generationId))?.finishedAt).toBe(h.clock.now);
});

test('a job that cannot be started is failed at once with job_not_started', async () => {
  const h = genHarness(storage, {
    startJob: () => async () => {
      throw new Error('Lambda said no');
    },
  });
  const session = await h.newSession();
  const asked = await ask(h, session);
  expect(asked).toMatchObject({ status: 'failed', error: { code: 'job_not_started' } });
  expect(h.lines.some((l) => l.msg === 'could not start a generation job')).toBe(true);
});

test.each([
  ['fail', 'provider_failed'],
  ['refuse', 'refused'],
  ['garbage', 'malformed_image'],
] as const)(
  'a generator that does "%s" fails the generation with %s and leaves nothing behind',
  async (behaviour, code) => {
    const h = genHarness(storage);
    const session = await h.newSession();
    h.generator.script.push(behaviour);
    const asked = await ask(h, session);
    await backgroundSettled();
    const done = await h.service.get(session.sessionId, asked.generationId);
    expect(done).toMatchObject({ status: 'failed', error: { code } });
    expect(done.error!.message.length).toBeGreaterThan(0);
    expect(await h.store.listImages(session.sessionId)).toEqual([]);
    expect(await objectKeys(session.sessionId)).toEqual([]);
  },
);

test('a generator that hangs is stopped at the job timeout and the generation fails with timeout', async () => {
  const h = genHarness(storage, { config: { jobTimeoutMs: 1000 } });
  const session = await h.newSession();
  h.generator.script.push('hang');
  const asked = await ask(h, session);
  await backgroundSettled();
  expect(await h.service.get(session.sessionId, asked.generationId)).toMatchObject({
    status: 'failed',
    error: { code: 'timeout' },
  });
});

test('an edit gets the session image as its source; a fallback dearer than approved is never used', async () => {
  const h = genHarness(storage);
  const session = await h.newSession();
  const first = await ask(h, session);
  await backgroundSettled();
  const source = (await h.service.get(session.sessionId, first.generationId)).imageId!;
  const edit = await ask(h, session, {
    prompt: 'make the sky redder',
    options: { quality: 'medium', aspect: 'landscape', editImageId: source },
  });
  await backgroundSettled();
  expect(h.generator.calls[1]!.request.source?.mimeType).toBe('image/jpeg');
  const edited = await h.service.get(session.sessionId, edit.generationId);
  expect(edited.status).toBe('ready');
  expect(edited.imageId).not.toBe(source);

  // Only a dearer model is left when the job runs: it fails rather than spend more than approved.
  const third = await ask(h, session);
  await backgroundSettled();
  expect((await h.service.get(session.sessionId, third.generationId)).status).toBe('ready');
  h.generator.entries = h.generator.entries.filter((e) => e.id !== 'cheap:flux-schnell:medium');
  const costly = await h.gen
    .service(async () => {})
    .ask({
      session,
      prompt: 'x',
      options: { quality: 'medium', aspect: 'square' },
      origin: 'voice',
      requester: requester(),
    });
  expect(costly.status).toBe('awaiting_confirmation');
});

test('an edit of an image the session does not have is 404 image_not_found, before anything is estimated', async () => {
  const h = genHarness(storage);
  const session = await h.newSession();
  const err = await rejection(
    ask(h, session, {
      options: { quality: 'medium', aspect: 'square', editImageId: 'img_AAAAAAAAAAAAAAAAAAAAAA' },
    }),
  );
  expect([err.status, err.code]).toEqual([404, 'image_not_found']);
});

test('the job spends at most the approved amount: entries dearer than it are left out', async () => {
  const h = genHarness(storage, { startJob: () => async () => {} });
  const session = await h.newSession();
  const asked = await ask(h, session);
  // Between the estimate and the job, the cheap model went away.
  h.generator.entries = h.generator.entries.filter((e) => e.id !== 'cheap:flux-schnell:medium');
  const outcome = await h.gen.runJob({ sessionId: session.sessionId, generationId: asked.generationId });
  expect(outcome).toMatchObject({ kind: 'failed', code: 'no_model_within_estimate' });
  expect(h.generator.calls).toHaveLength(0);
});
