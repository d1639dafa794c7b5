// The uploads Lambda entry, invoked as the runtime does for a buffered function URL (payload
// v2), configured only through its environment, against the emulators.

import { Router } from '../../../shared/http/router';
import { createSessionsRoutes } from '../../../shared/sessions/api';
import { createBrowserApiDeps } from '../../../shared/sessions/browser-api';
import { loadBrowserApiConfig } from '../../../shared/sessions/config';
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
import {
  type FunctionUrlHandler,
  functionUrlEvent,
  lambdaContext,
  parseResult,
} from '../sessions/lambda-event';
import { solidJpeg } from './test-images';

let storage: TestStorage;
let handler: FunctionUrlHandler;
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
  const router = createSessionsRoutes(new Router(), createBrowserApiDeps(config, storage.clients));
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
