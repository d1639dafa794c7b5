// What a form can still do after its image is complete (its policy lives 300 s): at most put
// exactly the declared size of bytes at its own raw key, which nothing ever reads; a repeated
// complete removes them, and the bucket's lifecycle rule (swept locally like S3 does) removes
// them within its day. Real presigned POSTs against the emulator.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { LOCAL_NAMES } from '../../../infra/local/dev-app';
import type { Emulators } from '../../../infra/local/emulators';
import { lifecycleExpiresAt } from '../../../infra/local/upload-lifecycle';
import { RAW_UPLOAD_EXPIRY_DAYS } from '../../../shared/storage/schema';
import type { ImageResult } from '../../../shared/uploads/image-result';
import { startDevServer } from '../../helpers/dev-server';
import {
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

test('a second POST after complete: another size is refused; the same size is never read, and a re-complete or the lifecycle sweep removes it', async () => {
  const photo = await solidJpeg(300, 200, [40, 80, 120]);
  const session = await api.createSession();
  const form = await api.call<{ imageId: string; upload: { url: string; fields: Record<string, string> } }>(
    'POST',
    `/sessions/${session.sessionId}/images`,
    { body: { contentType: 'image/jpeg', contentLength: photo.length }, headers: secretHeader(session) },
  );
  expect((await postUploadForm(form.json.upload, photo, 'image/jpeg')).status).toBeLessThan(300);
  const completePath = `/sessions/${session.sessionId}/images/${form.json.imageId}/complete`;
  const first = await api.call<ImageResult>('POST', completePath, { headers: secretHeader(session) });
  expect(first.status).toBe(200);
  const rawKey = `uploads/${session.sessionId}/${form.json.imageId}`;
  expect(await objectKeys(storage, rawKey)).toEqual([]);

  // The measured abuse: 100 KB of HTML through the same, still valid form.
  const html = Buffer.from(`<html>${'x'.repeat(100_000)}</html>`);
  const refused = await postUploadForm(form.json.upload, html, 'image/jpeg', 'page.html');
  expect(refused.status).toBe(400);
  expect(await objectKeys(storage, rawKey)).toEqual([]);

  // Exactly the declared size still gets in (S3 would take it too), but nothing reads it...
  const sameSize = Buffer.alloc(photo.length, 0x3c);
  expect((await postUploadForm(form.json.upload, sameSize, 'image/jpeg')).status).toBeLessThan(300);
  const again = await api.call<ImageResult>('POST', completePath, { headers: secretHeader(session) });
  expect(again.status).toBe(200);
  expect(again.json).toEqual(first.json);
  // ...and the repeated complete removed it.
  expect(await objectKeys(storage, rawKey)).toEqual([]);

  // Left alone, the lifecycle rule takes it: not before its day is over, then at once.
  const posted = Date.now();
  expect((await postUploadForm(form.json.upload, sameSize, 'image/jpeg')).status).toBeLessThan(300);
  const due = lifecycleExpiresAt(posted, RAW_UPLOAD_EXPIRY_DAYS);
  expect(await storage.emu.sweepUploads(due - 60_000)).not.toContain(rawKey);
  expect(await objectKeys(storage, rawKey)).toEqual([rawKey]);
  expect(await storage.emu.sweepUploads(due + 1_000)).toContain(rawKey);
  expect(await objectKeys(storage, rawKey)).toEqual([]);
  // Normalized images are not the rule's business.
  expect(await objectKeys(storage, `images/${session.sessionId}/`)).toHaveLength(1);
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
