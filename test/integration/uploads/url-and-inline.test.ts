// Images that arrive as a URL (fetched server-side, SSRF-guarded) or as an inline data URI are
// normalized and ready in the same call; refusals store nothing.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createTestBrowserApi,
  type ErrorBody,
  imageItems,
  secretHeader,
  sessionObjects,
  startTestStorage,
  type TestBrowserApi,
  type TestStorage,
  testConfig,
} from '../sessions/harness';
import { SVG_WITH_SCRIPT, solidJpeg } from './test-images';

interface ImageReply {
  imageId: string;
  status: 'ready';
  width: number;
  height: number;
  mime: string;
  slot: string | null;
  deduplicatedFrom?: string;
}

// The image server listens on 127.0.0.2, which the injected policy treats as public; every
// other address (127.0.0.1 included) stays private, exactly as in production.
const PUBLIC_TEST_IP = '127.0.0.2';

let storage: TestStorage;
let api: TestBrowserApi;
let imageServer: http.Server;
let imageBase: string;
let requestsServed = 0;
let photo: Buffer;

beforeAll(async () => {
  photo = await solidJpeg(900, 600, [30, 160, 90]);
  storage = await startTestStorage();
  api = createTestBrowserApi(storage, testConfig(), {
    urlFetch: { allowHttp: true, addressPolicy: (ip) => ip === PUBLIC_TEST_IP, timeoutMs: 3000 },
  });
  imageServer = http.createServer((req, res) => {
    requestsServed += 1;
    if (req.url === '/photo.jpg') {
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': photo.length });
      res.end(photo);
    } else if (req.url === '/drawing.svg') {
      res.writeHead(200, { 'content-type': 'image/svg+xml' });
      res.end(SVG_WITH_SCRIPT);
    } else if (req.url === '/to-metadata') {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
      res.end();
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => imageServer.listen(0, PUBLIC_TEST_IP, resolve));
  imageBase = `http://${PUBLIC_TEST_IP}:${(imageServer.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => imageServer.close(() => resolve()));
  await storage.close();
});

test('an image URL is fetched, normalized and ready in one call', async () => {
  const session = await api.createSession();
  const res = await api.call<ImageReply>('POST', `/sessions/${session.sessionId}/images`, {
    body: { url: `${imageBase}/photo.jpg`, slot: 'camera' },
    headers: secretHeader(session),
  });
  expect(res.status).toBe(201);
  expect(res.json).toEqual(
    expect.objectContaining({ status: 'ready', width: 900, height: 600, mime: 'image/jpeg', slot: 'camera' }),
  );
  expect(await sessionObjects(storage, session.sessionId)).toEqual([
    `images/${session.sessionId}/${res.json.imageId}.jpg`,
  ]);
  const items = await imageItems(storage, session.sessionId);
  expect(items).toEqual([
    expect.objectContaining({ imageId: res.json.imageId, source: 'url', status: 'ready' }),
  ]);
  // The URL itself is not kept.
  expect(JSON.stringify(items)).not.toContain(imageBase);
});

test('the same image by URL and then inline is one image', async () => {
  const session = await api.createSession();
  const byUrl = await api.call<ImageReply>('POST', `/sessions/${session.sessionId}/images`, {
    body: { url: `${imageBase}/photo.jpg` },
    headers: secretHeader(session),
  });
  const inline = await api.call<ImageReply>('POST', `/sessions/${session.sessionId}/images`, {
    body: { data: `data:image/jpeg;base64,${photo.toString('base64')}` },
    headers: secretHeader(session),
  });
  expect(inline.status).toBe(200);
  expect(inline.json.imageId).toBe(byUrl.json.imageId);
  expect(inline.json.deduplicatedFrom).toMatch(/^img_/);
  // The folded inline id never existed for the client, so no alias item stays behind.
  expect(await imageItems(storage, session.sessionId)).toHaveLength(1);
});

test('an inline data URI becomes a ready image', async () => {
  const session = await api.createSession();
  const drawing = await solidJpeg(120, 80, [250, 250, 0]);
  const res = await api.call<ImageReply>('POST', `/sessions/${session.sessionId}/images`, {
    body: { data: `data:image/jpeg;base64,${drawing.toString('base64')}`, slot: 'canvas' },
    headers: secretHeader(session),
  });
  expect(res.status).toBe(201);
  expect(res.json).toEqual(
    expect.objectContaining({ status: 'ready', width: 120, height: 80, slot: 'canvas' }),
  );
  const context = await api.deps.store.loadSessionContext(session.sessionId);
  expect(context?.images.map((i) => [i.imageId, i.source])).toEqual([[res.json.imageId, 'inline']]);
});

describe('refused URLs store nothing', () => {
  test.each([
    ['a loopback address (SSRF)', 'https://127.0.0.1/x.png', 'url_resolves_to_private_address'],
    [
      'the cloud metadata service',
      'http://169.254.169.254/latest/meta-data/',
      'url_resolves_to_private_address',
    ],
    ['a redirect to the metadata service', '/to-metadata', 'url_resolves_to_private_address'],
    ['a file: URL', 'file:///etc/passwd', 'url_scheme_not_allowed'],
    ['a 404', '/missing.png', 'url_fetch_failed'],
    ['an SVG', '/drawing.svg', 'svg_not_allowed'],
  ])('%s', async (_name, url, code) => {
    const session = await api.createSession();
    const served = requestsServed;
    const res = await api.call<ErrorBody>('POST', `/sessions/${session.sessionId}/images`, {
      body: { url: url.startsWith('/') ? `${imageBase}${url}` : url },
      headers: secretHeader(session),
    });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe(code);
    expect(await imageItems(storage, session.sessionId)).toEqual([]);
    expect(await sessionObjects(storage, session.sessionId)).toEqual([]);
    if (!url.startsWith('/')) expect(requestsServed).toBe(served);
  });
});

test('with the production address policy, even the test server is off limits', async () => {
  const strict = createTestBrowserApi(storage, testConfig(), { urlFetch: { allowHttp: false } });
  const session = await strict.createSession();
  const res = await strict.call<ErrorBody>('POST', `/sessions/${session.sessionId}/images`, {
    body: { url: `${imageBase}/photo.jpg` },
    headers: secretHeader(session),
  });
  expect([res.status, res.json.error.code]).toEqual([400, 'url_scheme_not_allowed']);
  const https = await strict.call<ErrorBody>('POST', `/sessions/${session.sessionId}/images`, {
    body: { url: 'https://127.0.0.1/x.png' },
    headers: secretHeader(session),
  });
  expect([https.status, https.json.error.code]).toEqual([400, 'url_resolves_to_private_address']);
  expect(await imageItems(storage, session.sessionId)).toEqual([]);
});
