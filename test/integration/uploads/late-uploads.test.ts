// What a form can still do after its image is complete (its policy lives 300 s): put exactly the
// declared size of bytes at its own raw key, which the bucket's ObjectCreated notification
// removes on arrival (the emulator sends it as S3 does); a lost notification leaves them to the
// lifecycle rule (swept locally like S3 does) within its day. Real presigned POSTs against the emulator.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { LOCAL_NAMES } from '../../../infra/local/dev-app';
import type { Emulators } from '../../../infra/local/emulators';
import { lifecycleExpiresAt } from '../../../infra/local/upload-lifecycle';
import { newImageId, newSessionId } from '../../../shared/sessions/ids';
import { RAW_UPLOAD_EXPIRY_DAYS } from '../../../shared/storage/schema';
import type { ImageResult } from '../../../shared/uploads/image-result';
import { createUploadForm } from '../../../shared/uploads/upload-form';
import { startDevServer } from '../../helpers/dev-server';
import {
  BUCKET,
  createTestBrowserApi,
  objectKeys,
  postUploadForm,
  secretHeader,
  startTestStorage,
  type TestBrowserApi,
  type TestStorage,
} from '../sessions/harness';
import { solidJpeg } from './test-images';

let storage: TestStorage;
let api: TestBrowserApi;

beforeAll(async () => {
  storage = await startTestStorage();
  api = createTestBrowserApi(storage);
});
afterAll(() => storage.close());

const DAY = 24 * 3600 * 1000;

test("S3's lifecycle rounding: creation plus the rule's days, up to the next midnight UTC", () => {
  expect(lifecycleExpiresAt(Date.parse('2026-01-01T13:00:00Z'), 1)).toBe(Date.parse('2026-01-03T00:00:00Z'));
  expect(lifecycleExpiresAt(Date.parse('2026-01-01T00:00:00Z'), 1)).toBe(Date.parse('2026-01-02T00:00:00Z'));
});

/** An upload form for a fresh session, as a browser gets it. */
async function issueForm(bytes: Buffer, a: TestBrowserApi = api) {
  const session = await a.createSession();
  const form = await a.call<{ imageId: string; upload: { url: string; fields: Record<string, string> } }>(
    'POST',
    `/sessions/${session.sessionId}/images`,
    { body: { contentType: 'image/jpeg', contentLength: bytes.length }, headers: secretHeader(session) },
  );
  expect(form.status).toBe(201);
  const { imageId, upload } = form.json;
  return {
    session,
    imageId,
    upload,
    rawKey: `uploads/${session.sessionId}/${imageId}`,
    complete: () =>
      a.call<ImageResult>('POST', `/sessions/${session.sessionId}/images/${imageId}/complete`, {
        headers: secretHeader(session),
      }),
  };
}

async function post(upload: { url: string; fields: Record<string, string> }, bytes: Buffer): Promise<void> {
  const res = await postUploadForm(upload, bytes, 'image/jpeg');
  expect(res.status).toBeLessThan(300);
}

/** The normalized image, read back through the real S3 client, and the chat function's view of the session. */
async function readImage(sessionId: string, imageId: string) {
  const out = await storage.clients.s3.send(
    new GetObjectCommand({ Bucket: BUCKET, Key: `images/${sessionId}/${imageId}.jpg` }),
  );
  const bytes = Buffer.from(await out.Body!.transformToByteArray());
  const context = await api.deps.store.loadSessionContext(sessionId);
  return { bytes, ready: context?.images.map((i) => i.imageId) ?? [] };
}

test('(a) upload then complete at once, the notification racing complete: works as before, nothing raw is left', async () => {
  const photo = await solidJpeg(300, 200, [40, 80, 120]);
  const form = await issueForm(photo);
  await post(form.upload, photo);
  const done = await form.complete();
  expect(done.status).toBe(200);
  expect(done.json).toEqual(expect.objectContaining({ imageId: form.imageId, status: 'ready' }));
  await storage.emu.notifications.settled();
  expect(await objectKeys(storage, form.rawKey)).toEqual([]);
  const image = await readImage(form.session.sessionId, form.imageId);
  expect(image.bytes.length).toBe(done.json.bytes);
  expect(image.ready).toEqual([form.imageId]);
});

test('(b) a second POST of the same size and type after complete is removed on arrival; the image still reads', async () => {
  const photo = await solidJpeg(300, 200, [40, 80, 120]);
  const form = await issueForm(photo);
  await post(form.upload, photo);
  const first = await form.complete();
  expect(first.status).toBe(200);
  await storage.emu.notifications.settled();

  // The measured abuse: 100 KB of HTML through the same, still valid form is refused by the policy...
  const html = Buffer.from(`<html>${'x'.repeat(100_000)}</html>`);
  expect((await postUploadForm(form.upload, html, 'image/jpeg', 'page.html')).status).toBe(400);
  // ...and exactly the declared size, which S3 accepts, is gone once its notification is handled.
  const sameSize = Buffer.alloc(photo.length, 0x3c);
  await post(form.upload, sameSize);
  await storage.emu.notifications.settled();
  expect(await objectKeys(storage, form.rawKey)).toEqual([]);

  const image = await readImage(form.session.sessionId, form.imageId);
  expect(image.bytes.length).toBe(first.json.bytes);
  expect(image.ready).toEqual([form.imageId]);
  // Completing again still answers the same image.
  const again = await form.complete();
  expect([again.status, again.json]).toEqual([200, first.json]);
});

test('(c) an upload whose notification arrives before complete is left alone, and complete then succeeds', async () => {
  const photo = await solidJpeg(320, 240, [200, 30, 30]);
  const form = await issueForm(photo);
  await post(form.upload, photo);
  await storage.emu.notifications.settled();
  expect(await objectKeys(storage, form.rawKey)).toEqual([form.rawKey]);
  const done = await form.complete();
  expect(done.status).toBe(200);
  expect(await objectKeys(storage, form.rawKey)).toEqual([]);
  expect((await readImage(form.session.sessionId, form.imageId)).ready).toEqual([form.imageId]);
});

test('(d) keys of no pending upload are removed: unknown session, unknown image, a deleted session, a foreign name', async () => {
  const bytes = Buffer.alloc(1000, 0x41);
  const direct = (key: string) =>
    createUploadForm(storage.clients.s3, {
      bucket: BUCKET,
      key,
      contentType: 'image/jpeg',
      bytes: bytes.length,
      now: Date.now(),
    });
  const live = await api.createSession();
  const keys = [
    `uploads/${newSessionId()}/${newImageId()}`,
    `uploads/${live.sessionId}/${newImageId()}`,
    'uploads/page.html',
    'uploads/with space/and+plus.jpg',
  ];
  for (const key of keys) await post(await direct(key), bytes);

  // A form outliving its session: the session is deleted, the form still admits its bytes.
  const form = await issueForm(bytes);
  const deleted = await api.call('DELETE', `/sessions/${form.session.sessionId}`, {
    headers: secretHeader(form.session),
  });
  expect(deleted.status).toBeLessThan(300);
  await post(form.upload, bytes);

  await storage.emu.notifications.settled();
  for (const key of [...keys, form.rawKey]) expect(await objectKeys(storage, key)).toEqual([]);
});

test('a lost notification: the late bytes stay, unread, until the lifecycle rule removes them within its day', async () => {
  const lossy = createTestBrowserApi(storage);
  const photo = await solidJpeg(300, 200, [40, 80, 120]);
  const form = await issueForm(photo, lossy);
  await post(form.upload, photo);
  expect((await form.complete()).status).toBe(200);
  await storage.emu.notifications.settled();
  // Every subscriber stops listening: the notification of the next POST reaches nobody.
  lossy.stopNotifications();
  api.stopNotifications();
  try {
    const posted = Date.now();
    await post(form.upload, Buffer.alloc(photo.length, 0x3c));
    await storage.emu.notifications.settled();
    const due = lifecycleExpiresAt(posted, RAW_UPLOAD_EXPIRY_DAYS);
    expect(await storage.emu.sweepUploads(due - 60_000)).not.toContain(form.rawKey);
    expect(await objectKeys(storage, form.rawKey)).toEqual([form.rawKey]);
    expect(await storage.emu.sweepUploads(due + 1_000)).toContain(form.rawKey);
    expect(await objectKeys(storage, form.rawKey)).toEqual([]);
    // Normalized images are not the rule's business.
    expect(await objectKeys(storage, `images/${form.session.sessionId}/`)).toHaveLength(1);
  } finally {
    api = createTestBrowserApi(storage);
  }
});

test('the dev server sweeps expired raw uploads once at start and then periodically', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sweep-'));
  const clock = { now: Date.now() };
  const bucket = LOCAL_NAMES.bucket;
  const s3For = (emu: Emulators) =>
    new S3Client({
      endpoint: emu.s3Endpoint,
      region: emu.region,
      credentials: emu.credentials,
      forcePathStyle: true,
    });
  const list = async (s3: S3Client) =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'uploads/' }))).Contents ?? []).map(
      (o) => o.Key,
    );
  try {
    // A first run leaves an upload behind.
    const first = await startDevServer({ env: {}, dataDir, uploadSweep: { now: () => clock.now } });
    const s3First = s3For(first.dev.emulators);
    await s3First.send(new PutObjectCommand({ Bucket: bucket, Key: 'uploads/s_old/img_old', Body: 'raw' }));
    s3First.destroy();
    await first.close();

    // Started again two days later: swept before it serves anything.
    clock.now += 2 * DAY;
    const second = await startDevServer({
      env: {},
      dataDir,
      uploadSweep: { now: () => clock.now, intervalMs: 20 },
    });
    const s3 = s3For(second.dev.emulators);
    try {
      expect(await list(s3)).toEqual([]);
      // Periodically: a fresh upload stays while its day lasts, and goes once the clock passes it.
      clock.now = Date.now();
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'uploads/s_new/img_new', Body: 'raw' }));
      await new Promise((r) => setTimeout(r, 100));
      expect(await list(s3)).toEqual(['uploads/s_new/img_new']);
      clock.now += 3 * DAY;
      for (let i = 0; i < 100 && (await list(s3)).length > 0; i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(await list(s3)).toEqual([]);
    } finally {
      s3.destroy();
      await second.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
