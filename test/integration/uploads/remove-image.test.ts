// DELETE /sessions/{id}/images/{imageId}: one image leaves the session (objects, aliases, its
// content claim, its item), the slot falls back to the image before it, and the refusals are precise.
import type { ImageResult } from '../../../shared/uploads/image-result';
import {
  type CreatedSession,
  createTestBrowserApi,
  type ErrorBody,
  partitionItems,
  postUploadForm,
  secretHeader,
  sessionObjects,
  startTestStorage,
  type TestBrowserApi,
  type TestStorage,
} from '../sessions/harness';
import { solidJpeg } from './test-images';

interface SessionReply {
  images: { imageId: string; slot: string | null; inContext: boolean }[];
}

let storage: TestStorage;
let api: TestBrowserApi;

beforeAll(async () => {
  storage = await startTestStorage();
  api = createTestBrowserApi(storage);
});
afterAll(() => storage.close());

/** The browser's upload: form, multipart POST to S3, complete. */
async function upload(session: CreatedSession, bytes: Buffer, slot?: string): Promise<ImageResult> {
  const form = await api.call<{ imageId: string; upload: { url: string; fields: Record<string, string> } }>(
    'POST',
    `/sessions/${session.sessionId}/images`,
    {
      body: { contentType: 'image/jpeg', contentLength: bytes.length, ...(slot ? { slot } : {}) },
      headers: secretHeader(session),
    },
  );
  expect(form.status).toBe(201);
  expect((await postUploadForm(form.json.upload, bytes, 'image/jpeg')).status).toBeLessThan(300);
  const done = await api.call<ImageResult>(
    'POST',
    `/sessions/${session.sessionId}/images/${form.json.imageId}/complete`,
    { headers: secretHeader(session) },
  );
  expect(done.status).toBe(200);
  return done.json;
}

const remove = (session: CreatedSession, imageId: string, headers = secretHeader(session)) =>
  api.call<ErrorBody | undefined>('DELETE', `/sessions/${session.sessionId}/images/${imageId}`, { headers });

const listed = async (session: CreatedSession) =>
  (await api.call<SessionReply>('GET', `/sessions/${session.sessionId}`, { headers: secretHeader(session) }))
    .json.images;

test('a removed image leaves no object, item or content claim, and the same bytes can be added again', async () => {
  const session = await api.createSession();
  const photo = await solidJpeg(800, 600, [20, 120, 200]);
  const kept = await upload(session, await solidJpeg(640, 480, [200, 200, 20]));
  const image = await upload(session, photo);
  expect((await sessionObjects(storage, session.sessionId)).some((k) => k.includes(image.imageId))).toBe(
    true,
  );

  const res = await remove(session, image.imageId);
  expect(res.status).toBe(204);
  expect(res.headers['cache-control']).toBe('no-store');

  expect((await listed(session)).map((i) => i.imageId)).toEqual([kept.imageId]);
  const objects = await sessionObjects(storage, session.sessionId);
  expect(objects.filter((k) => k.includes(image.imageId))).toEqual([]);
  expect(objects.some((k) => k.includes(kept.imageId))).toBe(true);
  const items = await partitionItems(storage, session.sessionId);
  expect(items.filter((i) => i.imageId === image.imageId || i.sk === `IMAGE#${image.imageId}`)).toEqual([]);

  // Not folded into the removed image: a new, ready image of its own.
  const again = await upload(session, photo);
  expect(again.deduplicatedFrom).toBeUndefined();
  expect(again.imageId).not.toBe(image.imageId);
  // (The test clock stands still, so the listing order is by id: compare as sets.)
  expect((await listed(session)).map((i) => i.imageId).sort()).toEqual([kept.imageId, again.imageId].sort());
});

test('removing the newest image of a slot shows the one before it again', async () => {
  const session = await api.createSession();
  const first = await upload(session, await solidJpeg(300, 200, [10, 10, 10]), 'canvas');
  // The test clock stands still: move it, so the second image is the slot's newest.
  api.clock.now += 5;
  const second = await upload(session, await solidJpeg(300, 200, [250, 250, 250]), 'canvas');
  expect(Object.fromEntries((await listed(session)).map((i) => [i.imageId, i.inContext]))).toEqual({
    [first.imageId]: false,
    [second.imageId]: true,
  });
  expect((await remove(session, second.imageId)).status).toBe(204);
  expect(await listed(session)).toMatchObject([{ imageId: first.imageId, slot: 'canvas', inContext: true }]);
});

test('the id a duplicate was asked under removes the image it was folded into, aliases included', async () => {
  const session = await api.createSession();
  const bytes = await solidJpeg(500, 400, [90, 30, 160]);
  const original = await upload(session, bytes);
  const form = await api.call<{ imageId: string; upload: { url: string; fields: Record<string, string> } }>(
    'POST',
    `/sessions/${session.sessionId}/images`,
    { body: { contentType: 'image/jpeg', contentLength: bytes.length }, headers: secretHeader(session) },
  );
  await postUploadForm(form.json.upload, bytes, 'image/jpeg');
  const dup = await api.call<ImageResult>(
    'POST',
    `/sessions/${session.sessionId}/images/${form.json.imageId}/complete`,
    { headers: secretHeader(session) },
  );
  expect(dup.json).toMatchObject({ imageId: original.imageId, deduplicatedFrom: form.json.imageId });

  expect((await remove(session, form.json.imageId)).status).toBe(204);
  expect(await listed(session)).toEqual([]);
  const items = await partitionItems(storage, session.sessionId);
  expect(items.map((i) => i.sk)).toEqual(['META']);
  expect(await sessionObjects(storage, session.sessionId)).toEqual([]);
});

test('refusals: unknown, already removed, malformed, another session’s image, no secret', async () => {
  const session = await api.createSession();
  const other = await api.createSession();
  const image = await upload(session, await solidJpeg(200, 200, [1, 2, 3]));

  const notFound = await remove(session, 'img_AAAAAAAAAAAAAAAAAAAAAA');
  expect(notFound.status).toBe(404);
  expect(notFound.json?.error.code).toBe('image_not_found');

  const malformed = await remove(session, '..%2Fimages');
  expect(malformed.status).toBe(400);
  expect(malformed.json?.error.code).toBe('invalid_image_id');

  const foreign = await remove(other, image.imageId);
  expect(foreign.status).toBe(404);
  expect(foreign.json?.error.code).toBe('image_not_found');

  const noSecret = await remove(session, image.imageId, {});
  expect(noSecret.status).toBe(401);
  expect(noSecret.json?.error.code).toBe('session_secret_required');

  expect((await remove(session, image.imageId)).status).toBe(204);
  const twice = await remove(session, image.imageId);
  expect(twice.status).toBe(404);
  expect(twice.json?.error.code).toBe('image_not_found');
});
