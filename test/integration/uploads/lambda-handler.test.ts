// The uploads Lambda entry, invoked as the runtime does for a buffered function URL (payload
// v2) and for the bucket's S3 notifications, configured only through its environment, against
// the emulators.

import type { S3Event } from 'aws-lambda';
import { composeBrowserApi } from '../../../functions/host/browser-api';
import type { BrowserFunctionHandler } from '../../../functions/host/browser-function';
import { composeSessions } from '../../../functions/sessions/compose';
import { loadBrowserApiConfig } from '../../../shared/browser-api/config';
import {
  APP_ORIGIN,
  type CreatedSession,
  type ErrorBody,
  postUploadForm,
  sessionObjects,
  startTestStorage,
  storageEnv,
  type TestStorage,
} from '../sessions/harness';
import { functionUrlEvent, lambdaContext, parseResult } from '../sessions/lambda-event';
import { solidJpeg } from './test-images';

let storage: TestStorage;
let handler: BrowserFunctionHandler;
const savedEnv = { ...process.env };

function environment(): Record<string, string> {
  return {
    ...storageEnv(storage),
    AUTH_MODE: 'anonymous',
    ALLOWED_ORIGINS: APP_ORIGIN,
    MAX_UPLOAD_BYTES: String(1024 * 1024),
    IMAGE_MAX_LONG_EDGE: '512',
    IMAGE_MAX_PIXELS: '200000',
    LOG_LEVEL: 'error',
  };
}

beforeAll(async () => {
  storage = await startTestStorage();
  Object.assign(process.env, environment());
  ({ handler } = await import('../../../functions/uploads/handler'));
});
afterAll(async () => {
  process.env = savedEnv;
  await storage.close();
});

/** Sessions come from the sessions API; built here from the same environment. */
async function createSession(): Promise<CreatedSession> {
  const config = loadBrowserApiConfig(environment());
  const router = composeSessions(composeBrowserApi(config, storage.clients));
  const res = await router.handler()(
    {
      method: 'POST',
      path: '/sessions',
      headers: { origin: APP_ORIGIN },
      query: {},
      body: Buffer.alloc(0),
      sourceIp: '203.0.113.60',
    },
    new AbortController().signal,
  );
  return JSON.parse(res.body ?? '') as CreatedSession;
}

test('presign → upload → complete through the Lambda entry, with the limits from its environment', async () => {
  const session = await createSession();
  const headers = { origin: APP_ORIGIN, 'x-session-secret': session.sessionSecret };
  const photo = await solidJpeg(1600, 1200, [5, 100, 200]);
  const form = parseResult<{
    imageId: string;
    upload: { url: string; fields: Record<string, string> };
    maxBytes: number;
  }>(
    await handler(
      functionUrlEvent('POST', `/sessions/${session.sessionId}/images`, {
        body: { contentType: 'image/jpeg', contentLength: photo.length },
        headers,
      }),
      lambdaContext(),
    ),
  );
  expect(form.status).toBe(201);
  expect(form.json.maxBytes).toBe(1024 * 1024);
  await postUploadForm(form.json.upload, photo, 'image/jpeg');

  const done = parseResult<{ status: string; width: number; height: number }>(
    await handler(
      functionUrlEvent('POST', `/sessions/${session.sessionId}/images/${form.json.imageId}/complete`, {
        headers,
      }),
      lambdaContext(),
    ),
  );
  expect(done.status).toBe(200);
  // IMAGE_MAX_LONG_EDGE=512 and IMAGE_MAX_PIXELS=200000 from the environment.
  expect(done.json).toEqual(expect.objectContaining({ status: 'ready', width: 512, height: 384 }));
  expect(await sessionObjects(storage, session.sessionId)).toEqual([
    `images/${session.sessionId}/${form.json.imageId}.jpg`,
  ]);
});

test('a bad image id is refused as JSON before anything else', async () => {
  const res = parseResult<ErrorBody>(
    await handler(
      functionUrlEvent('POST', '/sessions/s_AAAAAAAAAAAAAAAAAAAAAA/images/img_..%2Fx/complete', {
        headers: { origin: APP_ORIGIN },
      }),
      lambdaContext(),
    ),
  );
  expect([res.status, res.json.error.code]).toEqual([400, 'invalid_image_id']);
});

test('S3 notifications reach the same entry: a late upload is removed; a storage outage rejects the event so Lambda retries it', async () => {
  const session = await createSession();
  const headers = { origin: APP_ORIGIN, 'x-session-secret': session.sessionSecret };
  const photo = await solidJpeg(400, 300, [90, 90, 20]);
  const form = parseResult<{ imageId: string; upload: { url: string; fields: Record<string, string> } }>(
    await handler(
      functionUrlEvent('POST', `/sessions/${session.sessionId}/images`, {
        body: { contentType: 'image/jpeg', contentLength: photo.length },
        headers,
      }),
      lambdaContext(),
    ),
  );
  expect((await postUploadForm(form.json.upload, photo, 'image/jpeg')).status).toBeLessThan(300);
  const complete = () =>
    handler(
      functionUrlEvent('POST', `/sessions/${session.sessionId}/images/${form.json.imageId}/complete`, {
        headers,
      }),
      lambdaContext(),
    );
  expect(parseResult(await complete()).status).toBe(200);

  // The emulator's notifications go to the Lambda entry, as the stack wires them; each outcome is kept.
  const outcomes: Promise<unknown>[] = [];
  const events: S3Event[] = [];
  const stop = storage.emu.notifications.subscribe({
    prefix: 'uploads/',
    deliver: (event) => {
      events.push(event);
      const outcome = handler(event, lambdaContext());
      outcomes.push(
        outcome.then(
          () => 'ok',
          (err: unknown) => err,
        ),
      );
      return outcome;
    },
  });
  const rawKey = `uploads/${session.sessionId}/${form.json.imageId}`;
  const late = Buffer.alloc(photo.length, 0x3c);
  try {
    // DynamoDB is down when the notification arrives: nothing is removed blindly, and the event fails.
    await storage.emu.stop('dynamodb');
    expect((await postUploadForm(form.json.upload, late, 'image/jpeg')).status).toBeLessThan(300);
    await storage.emu.notifications.settled();
    expect(await Promise.all(outcomes)).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/could not be checked/) }),
    ]);
    expect((await sessionObjects(storage, session.sessionId)).filter((k) => k === rawKey)).toEqual([rawKey]);

    // Lambda's retry of the same event, once storage is back, removes it.
    await storage.emu.restart('dynamodb');
    await expect(handler(events[0]!, lambdaContext())).resolves.toBeUndefined();
    expect(await sessionObjects(storage, session.sessionId)).toEqual([
      `images/${session.sessionId}/${form.json.imageId}.jpg`,
    ]);

    // A later POST is removed on its first delivery; the API still answers on the same entry.
    expect((await postUploadForm(form.json.upload, late, 'image/jpeg')).status).toBeLessThan(300);
    await storage.emu.notifications.settled();
    expect(await Promise.all(outcomes)).toEqual([expect.any(Error), 'ok']);
    expect((await sessionObjects(storage, session.sessionId)).filter((k) => k === rawKey)).toEqual([]);
    expect(parseResult(await complete()).status).toBe(200);
  } finally {
    stop();
    await storage.emu.restart('dynamodb');
  }
});
