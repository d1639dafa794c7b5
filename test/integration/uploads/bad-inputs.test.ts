// The bad-input corpus: every refusal names its reason (error code), and leaves nothing behind
// (no IMAGE item, no object under uploads/ or images/).
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  BUCKET,
  type CreatedSession,
  createTestBrowserApi,
  type ErrorBody,
  imageItems,
  postUploadForm,
  secretHeader,
  sessionObjects,
  startTestStorage,
  type TestBrowserApi,
  type TestStorage,
  testConfig,
} from '../sessions/harness';
import {
  noisyPng,
  pngClaimingHugeDimensions,
  SVG_WITH_SCRIPT,
  solidJpeg,
  TEXT_FILE,
  truncated,
} from './test-images';

interface UploadFormReply {
  imageId: string;
  upload: { url: string; fields: Record<string, string> };
}

const MAX_UPLOAD_BYTES = 256 * 1024;

let storage: TestStorage;
let api: TestBrowserApi;

beforeAll(async () => {
  storage = await startTestStorage();
  api = createTestBrowserApi(
    storage,
    testConfig({
      maxUploadBytes: MAX_UPLOAD_BYTES,
      maxInlineBytes: 64 * 1024,
      imageLimits: { ...testConfig().imageLimits, maxInputBytes: MAX_UPLOAD_BYTES },
    }),
  );
});
afterAll(() => storage.close());

async function expectNothingStored(session: CreatedSession): Promise<void> {
  expect(await imageItems(storage, session.sessionId)).toEqual([]);
  expect(await sessionObjects(storage, session.sessionId)).toEqual([]);
}

/** Presign, POST the bytes to S3 as a browser would (S3 accepts anything here), then complete. */
async function uploadAndComplete(bytes: Buffer, declared: string) {
  const session = await api.createSession();
  const form = await api.call<UploadFormReply>('POST', `/sessions/${session.sessionId}/images`, {
    body: { contentType: declared, contentLength: bytes.length },
    headers: secretHeader(session),
  });
  expect(form.status).toBe(201);
  const posted = await postUploadForm(form.json.upload, bytes, declared);
  expect(posted.status).toBeLessThan(300);
  const done = await api.call<ErrorBody>(
    'POST',
    `/sessions/${session.sessionId}/images/${form.json.imageId}/complete`,
    {
      headers: secretHeader(session),
    },
  );
  return { session, done };
}

describe.each([
  ['a text file named .jpg', () => Promise.resolve(TEXT_FILE), 'image/jpeg', 400, 'not_an_image'],
  ['an SVG with a <script>', () => Promise.resolve(SVG_WITH_SCRIPT), 'image/png', 400, 'svg_not_allowed'],
  [
    'a truncated JPEG',
    async () => truncated(await solidJpeg(800, 600, [90, 20, 160])),
    'image/jpeg',
    400,
    'image_truncated',
  ],
  [
    'a PNG whose header claims 100000 x 100000 pixels',
    () => Promise.resolve(pngClaimingHugeDimensions()),
    'image/png',
    400,
    'image_too_many_pixels',
  ],
])('complete refuses %s', (_name, make, declared, status, code) => {
  test(`${status} ${code}, and nothing is stored`, async () => {
    const { session, done } = await uploadAndComplete(await make(), declared);
    expect(done.status).toBe(status);
    expect(done.json.error.code).toBe(code);
    await expectNothingStored(session);
  });
});

test('an object over maxUploadBytes that got into the bucket anyway is refused from its metadata', async () => {
  const big = await noisyPng(400, 400);
  expect(big.length).toBeGreaterThan(MAX_UPLOAD_BYTES);
  const session = await api.createSession();
  const form = await api.call<UploadFormReply>('POST', `/sessions/${session.sessionId}/images`, {
    body: { contentType: 'image/png', contentLength: MAX_UPLOAD_BYTES },
    headers: secretHeader(session),
  });
  // Past the form's policy (which S3 and the emulator enforce): the app checks again on its own.
  await storage.clients.s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: form.json.upload.fields.key,
      Body: big,
      ContentType: 'image/png',
    }),
  );
  const done = await api.call<ErrorBody>(
    'POST',
    `/sessions/${session.sessionId}/images/${form.json.imageId}/complete`,
    { headers: secretHeader(session) },
  );
  expect(done.status).toBe(413);
  expect(done.json.error.code).toBe('image_too_large');
  await expectNothingStored(session);
});

test('the upload form is refused for a declared size over the cap, before anything is created', async () => {
  const session = await api.createSession();
  const res = await api.call<ErrorBody>('POST', `/sessions/${session.sessionId}/images`, {
    body: { contentType: 'image/jpeg', contentLength: MAX_UPLOAD_BYTES + 1 },
    headers: secretHeader(session),
  });
  expect(res.status).toBe(413);
  expect(res.json.error.code).toBe('image_too_large');
  await expectNothingStored(session);
});

test('the upload form is refused for a content type that is not an image we take', async () => {
  const session = await api.createSession();
  for (const contentType of ['image/svg+xml', 'text/html', 'application/pdf']) {
    const res = await api.call<ErrorBody>('POST', `/sessions/${session.sessionId}/images`, {
      body: { contentType },
      headers: secretHeader(session),
    });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('unsupported_image_format');
    expect(res.json.error.param).toBe('contentType');
  }
  await expectNothingStored(session);
});

test('the presigned policy pins the exact declared size, content type and key', async () => {
  const session = await api.createSession();
  const res = await api.call<UploadFormReply>('POST', `/sessions/${session.sessionId}/images`, {
    body: { contentType: 'image/webp', contentLength: 100 },
    headers: secretHeader(session),
  });
  const policy = JSON.parse(Buffer.from(res.json.upload.fields.Policy!, 'base64').toString('utf8')) as {
    expiration: string;
    conditions: unknown[];
  };
  expect(policy.conditions).toEqual(
    expect.arrayContaining([
      ['content-length-range', 100, 100],
      ['eq', '$Content-Type', 'image/webp'],
      { key: `uploads/${session.sessionId}/${res.json.imageId}` },
    ]),
  );
  const lifetime = Date.parse(policy.expiration) - Date.now();
  expect(lifetime).toBeGreaterThan(200_000);
  expect(lifetime).toBeLessThanOrEqual(300_000);
});

test('inline data URIs: SVG, text and oversized payloads are refused with nothing stored', async () => {
  const session = await api.createSession();
  const cases: [string, number, string][] = [
    [`data:image/svg+xml;base64,${SVG_WITH_SCRIPT.toString('base64')}`, 400, 'svg_not_allowed'],
    [`data:image/jpeg;base64,${TEXT_FILE.toString('base64')}`, 400, 'not_an_image'],
    [`data:image/png;base64,${Buffer.alloc(70 * 1024, 1).toString('base64')}`, 413, 'image_too_large'],
    ['data:image/png;base64,not base64!', 400, 'invalid_data_uri'],
    ['data:image/png,rawbytes', 400, 'data_uri_not_base64'],
  ];
  for (const [data, status, code] of cases) {
    const res = await api.call<ErrorBody>('POST', `/sessions/${session.sessionId}/images`, {
      body: { data },
      headers: secretHeader(session),
    });
    expect([res.status, res.json.error.code]).toEqual([status, code]);
  }
  await expectNothingStored(session);
});

test('a body asking for two things at once, or nothing, is a 400 naming the fields', async () => {
  const session = await api.createSession();
  for (const body of [
    { contentType: 'image/png', url: 'https://example.com/a.png' },
    {},
    { slot: 'canvas' },
  ]) {
    const res = await api.call<ErrorBody>('POST', `/sessions/${session.sessionId}/images`, {
      body,
      headers: secretHeader(session),
    });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toMatch(/exactly one of "contentType".*"url".*"data"/);
  }
  const badSlot = await api.call<ErrorBody>('POST', `/sessions/${session.sessionId}/images`, {
    body: { contentType: 'image/png', slot: '../canvas' },
    headers: secretHeader(session),
  });
  expect([badSlot.status, badSlot.json.error.param]).toEqual([400, 'slot']);
  await expectNothingStored(session);
});

test('a form declared for 100 bytes: S3 (the emulator, like S3) refuses 4.2 MB and 99 bytes, and nothing is stored', async () => {
  const session = await api.createSession();
  const form = await api.call<UploadFormReply>('POST', `/sessions/${session.sessionId}/images`, {
    body: { contentType: 'image/jpeg', contentLength: 100 },
    headers: secretHeader(session),
  });
  expect(form.status).toBe(201);
  const big = await postUploadForm(form.json.upload, Buffer.alloc(4_200_000, 0x41), 'image/jpeg');
  expect(big.status).toBe(400);
  expect(await big.text()).toContain('<Code>EntityTooLarge</Code>');
  const small = await postUploadForm(form.json.upload, Buffer.alloc(99, 0x41), 'image/jpeg');
  expect(small.status).toBe(400);
  expect(await small.text()).toContain('<Code>EntityTooSmall</Code>');
  // A form edited to store another content type is refused too.
  const html = await postUploadForm(
    { ...form.json.upload, fields: { ...form.json.upload.fields, 'Content-Type': 'text/html' } },
    Buffer.alloc(100, 0x41),
    'text/html',
  );
  expect(html.status).toBe(403);
  expect(await html.text()).toContain('Policy Condition failed');
  expect(await sessionObjects(storage, session.sessionId)).toEqual([]);
});

test('an object of another size than declared, however it got in, is refused at complete with upload_size_mismatch', async () => {
  const photo = await solidJpeg(200, 150, [1, 99, 1]);
  const session = await api.createSession();
  const form = await api.call<UploadFormReply>('POST', `/sessions/${session.sessionId}/images`, {
    body: { contentType: 'image/jpeg', contentLength: photo.length + 1 },
    headers: secretHeader(session),
  });
  await storage.clients.s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: form.json.upload.fields.key,
      Body: photo,
      ContentType: 'image/jpeg',
    }),
  );
  const done = await api.call<ErrorBody>(
    'POST',
    `/sessions/${session.sessionId}/images/${form.json.imageId}/complete`,
    { headers: secretHeader(session) },
  );
  expect(done.status).toBe(400);
  expect(done.json.error).toMatchObject({ code: 'upload_size_mismatch', param: 'contentLength' });
  await expectNothingStored(session);
});

test('an upload form without contentLength is refused before anything is created', async () => {
  const session = await api.createSession();
  const res = await api.call<ErrorBody>('POST', `/sessions/${session.sessionId}/images`, {
    body: { contentType: 'image/jpeg' },
    headers: secretHeader(session),
  });
  expect(res.status).toBe(400);
  expect(res.json.error).toMatchObject({ code: 'content_length_required', param: 'contentLength' });
  await expectNothingStored(session);
});
