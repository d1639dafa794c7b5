// A browser's whole path: session, presigned form, a real multipart POST to S3, complete, and
// the image as the session and the chat function then see it.
import { GetObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import type { ImageResult } from '../../../shared/uploads/image-result';
import {
  BUCKET,
  type CreatedSession,
  createTestBrowserApi,
  type ErrorBody,
  imageItems,
  objectKeys,
  partitionItems,
  postUploadForm,
  secretHeader,
  sessionObjects,
  startTestStorage,
  type TestBrowserApi,
  type TestStorage,
} from '../sessions/harness';
import { jpegWithGps, solidJpeg } from './test-images';

interface UploadFormReply {
  imageId: string;
  status: 'pending';
  upload: { url: string; fields: Record<string, string> };
  expiresAt: string;
  maxBytes: number;
}

interface SessionReply {
  sessionId: string;
  images: {
    imageId: string;
    status: string;
    width?: number;
    height?: number;
    slot: string | null;
    inContext: boolean;
  }[];
}

let storage: TestStorage;
let api: TestBrowserApi;

beforeAll(async () => {
  storage = await startTestStorage();
  api = createTestBrowserApi(storage);
});
afterAll(() => storage.close());

async function uploadImage(
  session: CreatedSession,
  bytes: Buffer,
  opts: { slot?: string; contentType?: string } = {},
) {
  const contentType = opts.contentType ?? 'image/jpeg';
  const form = await api.call<UploadFormReply>('POST', `/sessions/${session.sessionId}/images`, {
    body: { contentType, contentLength: bytes.length, ...(opts.slot ? { slot: opts.slot } : {}) },
    headers: secretHeader(session),
  });
  expect(form.status).toBe(201);
  const posted = await postUploadForm(form.json.upload, bytes, contentType);
  expect(posted.status).toBeLessThan(300);
  return form.json;
}

function complete(session: CreatedSession, imageId: string) {
  return api.call<ImageResult>('POST', `/sessions/${session.sessionId}/images/${imageId}/complete`, {
    headers: secretHeader(session),
  });
}

test('session → presigned POST → multipart upload to S3 → complete → the session shows the image ready', async () => {
  const session = await api.createSession();
  expect(session.sessionId).toMatch(/^s_[A-Za-z0-9_-]{22}$/);
  expect(session.uploadUrl).toBe(`https://uploads.example.com/sessions/${session.sessionId}/images`);

  const photo = await solidJpeg(2400, 1600, [200, 40, 40]);
  const form = await uploadImage(session, photo);
  expect(form.upload.fields.key).toBe(`uploads/${session.sessionId}/${form.imageId}`);
  expect(form.upload.fields['Content-Type']).toBe('image/jpeg');
  expect(form.upload.fields.Policy).toBeDefined();
  expect(await objectKeys(storage, `uploads/${session.sessionId}/`)).toEqual([
    `uploads/${session.sessionId}/${form.imageId}`,
  ]);

  const done = await complete(session, form.imageId);
  expect(done.status).toBe(200);
  expect(done.json).toEqual({
    imageId: form.imageId,
    status: 'ready',
    // Scaled to the 1.15 MP output cap, aspect ratio kept.
    width: 1313,
    height: 875,
    bytes: expect.any(Number),
    sourceBytes: photo.length,
    mime: 'image/jpeg',
    slot: null,
  });

  // The raw upload is gone; the derivative is where the chat function looks for it.
  expect(await sessionObjects(storage, session.sessionId)).toEqual([
    `images/${session.sessionId}/${form.imageId}.jpg`,
  ]);

  const got = await api.call<SessionReply>('GET', `/sessions/${session.sessionId}`, {
    headers: secretHeader(session),
  });
  expect(got.status).toBe(200);
  expect(got.json.images).toEqual([
    expect.objectContaining({
      imageId: form.imageId,
      status: 'ready',
      width: 1313,
      height: 875,
      inContext: true,
    }),
  ]);
  // Metadata only: no bucket keys, no hashes, no secret hash.
  expect(got.text).not.toMatch(/images\/|uploads\/|sha256|secretHash/);

  const context = await api.deps.store.loadSessionContext(session.sessionId);
  expect(context?.images.map((i) => [i.imageId, i.key, i.status])).toEqual([
    [form.imageId, `images/${session.sessionId}/${form.imageId}.jpg`, 'ready'],
  ]);
});

test('completing twice answers the same metadata, and the second call changes nothing', async () => {
  const session = await api.createSession();
  const form = await uploadImage(session, await solidJpeg(300, 200, [1, 2, 3]));
  const first = await complete(session, form.imageId);
  const second = await complete(session, form.imageId);
  expect(first.status).toBe(200);
  expect(second.status).toBe(200);
  expect(second.json).toEqual(first.json);
  expect(await imageItems(storage, session.sessionId)).toHaveLength(1);
});

test('two uploads into slot "canvas": a turn sees only the newer one', async () => {
  const session = await api.createSession();
  const older = await uploadImage(session, await solidJpeg(400, 300, [0, 0, 0]), { slot: 'canvas' });
  expect((await complete(session, older.imageId)).json.slot).toBe('canvas');
  const other = await uploadImage(session, await solidJpeg(400, 300, [0, 255, 0]));
  await complete(session, other.imageId);
  api.clock.now += 5;
  const newer = await uploadImage(session, await solidJpeg(400, 300, [255, 255, 255]), { slot: 'canvas' });
  await complete(session, newer.imageId);

  const context = await api.deps.store.loadSessionContext(session.sessionId);
  expect(context?.images.map((i) => i.imageId)).toEqual([other.imageId, newer.imageId]);

  const got = await api.call<SessionReply>('GET', `/sessions/${session.sessionId}`, {
    headers: secretHeader(session),
  });
  const inContext = Object.fromEntries(got.json.images.map((i) => [i.imageId, i.inContext]));
  expect(inContext).toEqual({ [older.imageId]: false, [other.imageId]: true, [newer.imageId]: true });
});

test('the same bytes twice give the existing image id and one stored object', async () => {
  const session = await api.createSession();
  const bytes = await solidJpeg(640, 480, [12, 34, 56]);
  const first = await uploadImage(session, bytes);
  const firstDone = await complete(session, first.imageId);
  const second = await uploadImage(session, bytes);
  const secondDone = await complete(session, second.imageId);

  expect(secondDone.status).toBe(200);
  expect(secondDone.json).toEqual({ ...firstDone.json, deduplicatedFrom: second.imageId });
  expect(await sessionObjects(storage, session.sessionId)).toEqual([
    `images/${session.sessionId}/${first.imageId}.jpg`,
  ]);
  const shaItems = (await partitionItems(storage, session.sessionId)).filter((i) =>
    String(i.sk).startsWith('SHA#'),
  );
  expect(shaItems).toEqual([expect.objectContaining({ imageId: first.imageId })]);
  const context = await api.deps.store.loadSessionContext(session.sessionId);
  expect(context?.images.map((i) => i.imageId)).toEqual([first.imageId]);

  // Repeating the folded completion answers the same again.
  expect((await complete(session, second.imageId)).json).toEqual(secondDone.json);
  // And the session view lists the image once.
  const got = await api.call<SessionReply>('GET', `/sessions/${session.sessionId}`, {
    headers: secretHeader(session),
  });
  expect(got.json.images.map((i) => i.imageId)).toEqual([first.imageId]);
});

test('a canvas undone to an earlier drawing shows that drawing again (duplicate promoted in its slot)', async () => {
  const session = await api.createSession();
  const a = await solidJpeg(200, 200, [10, 10, 10]);
  const b = await solidJpeg(200, 200, [240, 240, 240]);
  const first = await uploadImage(session, a, { slot: 'canvas' });
  await complete(session, first.imageId);
  api.clock.now += 5;
  const second = await uploadImage(session, b, { slot: 'canvas' });
  await complete(session, second.imageId);
  api.clock.now += 5;
  const third = await uploadImage(session, a, { slot: 'canvas' });
  const done = await complete(session, third.imageId);
  expect(done.json.imageId).toBe(first.imageId);

  const context = await api.deps.store.loadSessionContext(session.sessionId);
  expect(context?.images.map((i) => i.imageId)).toEqual([first.imageId]);
});

test('a photo with EXIF GPS is stored without any EXIF', async () => {
  const photo = await jpegWithGps();
  const before = await sharp(photo).metadata();
  // The input really carries a GPS IFD (tag 0x8825, little-endian here).
  expect(before.exif?.includes(Buffer.from([0x25, 0x88]))).toBe(true);

  const session = await api.createSession();
  const form = await uploadImage(session, photo);
  expect((await complete(session, form.imageId)).status).toBe(200);
  const stored = await storage.clients.s3.send(
    new GetObjectCommand({ Bucket: BUCKET, Key: `images/${session.sessionId}/${form.imageId}.jpg` }),
  );
  const bytes = Buffer.from(await stored.Body!.transformToByteArray());
  const after = await sharp(bytes).metadata();
  expect(after.exif).toBeUndefined();
  expect(after.xmp).toBeUndefined();
  expect(bytes.includes(Buffer.from('Exif'))).toBe(false);
  expect(bytes.includes(Buffer.from('TestPhone'))).toBe(false);
});

test('completing before the file was uploaded is a 409 and keeps the form usable', async () => {
  const session = await api.createSession();
  const png = await sharp({ create: { width: 50, height: 50, channels: 4, background: '#0000' } })
    .png()
    .toBuffer();
  const form = await api.call<UploadFormReply>('POST', `/sessions/${session.sessionId}/images`, {
    body: { contentType: 'image/png', contentLength: png.length },
    headers: secretHeader(session),
  });
  const early = await api.call<ErrorBody>(
    'POST',
    `/sessions/${session.sessionId}/images/${form.json.imageId}/complete`,
    {
      headers: secretHeader(session),
    },
  );
  expect(early.status).toBe(409);
  expect(early.json.error.code).toBe('upload_not_found');
  await postUploadForm(form.json.upload, png, 'image/png', 'drawing.png');
  expect((await complete(session, form.json.imageId)).status).toBe(200);
});
