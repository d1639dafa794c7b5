// A storage outage through the real product (dev server, real AWS SDK, the embedded emulators
// switched off and on): every browser call answers 503 storage_unavailable with retry-after and
// the outage is logged once; a chat turn is answered without images; after the restart
// everything works and what was stored before is intact.
import OpenAI from 'openai';
import { createLogger } from '../../../shared/observability/log';
import { type FakeOpenAIServer, startOpenAIServer } from '../../fakes/openai-server';
import {
  type BrowserSession,
  createBrowserSession,
  type RunningDevServer,
  startDevServer,
  uploadThroughS3,
} from '../../helpers/dev-server';
import { solidJpeg } from '../uploads/test-images';

const ORIGIN = 'https://app.example.com';
const STORAGE_LINE =
  'storage unavailable: browser calls that need it answer 503 storage_unavailable, rate limits fail open';

let upstream: FakeOpenAIServer;
let dev: RunningDevServer;
let lines: { level: string; msg: string; [k: string]: unknown }[] = [];

beforeAll(async () => {
  upstream = await startOpenAIServer({ reply: ['ok'] });
  dev = await startDevServer({
    env: { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: `${upstream.url}/v1`, ALLOWED_ORIGINS: ORIGIN },
    log: createLogger('info', {}, (line) => lines.push(JSON.parse(line))),
  });
});
afterAll(async () => {
  await dev?.close();
  await upstream?.close();
});
afterEach(() => dev.dev.emulators.restart());

type ErrorBody = { error: { message: string; type: string; param: string | null; code: string | null } };

function call(method: string, path: string, session?: BrowserSession, body?: unknown): Promise<Response> {
  return fetch(`${dev.url}${path}`, {
    method,
    headers: {
      origin: ORIGIN,
      'content-type': 'application/json',
      ...(session ? { 'x-session-secret': session.sessionSecret } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

/** Issues a form and POSTs the file to S3, without completing. */
async function uploadWithoutComplete(session: BrowserSession, bytes: Buffer): Promise<string> {
  const res = await call('POST', `/sessions/${session.sessionId}/images`, session, {
    contentType: 'image/jpeg',
    contentLength: bytes.length,
  });
  const form = (await res.json()) as {
    imageId: string;
    upload: { url: string; fields: Record<string, string> };
  };
  const data = new FormData();
  for (const [k, v] of Object.entries(form.upload.fields)) data.append(k, v);
  data.append('file', new Blob([bytes], { type: 'image/jpeg' }), 'photo.jpg');
  const posted = await fetch(form.upload.url, { method: 'POST', body: data });
  expect(posted.status).toBeLessThan(300);
  return form.imageId;
}

async function expectUnavailable(res: Response): Promise<void> {
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe('5');
  const body = (await res.json()) as ErrorBody;
  expect(body).toEqual({
    error: {
      message: expect.stringContaining('storage is unavailable'),
      type: 'service_unavailable',
      param: null,
      code: 'storage_unavailable',
    },
  });
}

const sentImages = () =>
  (upstream.requests.at(-1)!.body as { messages: { content: string | { type: string }[] }[] }).messages
    .flatMap((m) => (typeof m.content === 'string' ? [] : m.content))
    .filter((p) => p.type === 'image_url').length;

async function chatTurn(session: BrowserSession): Promise<string> {
  const client = new OpenAI({ apiKey: 'x', baseURL: `${dev.url}/v1`, maxRetries: 0 });
  // As ElevenLabs sends it: streamed, with the session in its extension field.
  const body: OpenAI.Chat.ChatCompletionCreateParamsStreaming & {
    elevenlabs_extra_body: { session_id: string };
  } = {
    model: 'gpt-4o',
    stream: true,
    user: 'u1',
    messages: [{ role: 'user', content: 'What do you see?' }],
    elevenlabs_extra_body: { session_id: session.sessionId },
  };
  const stream = await client.chat.completions.create(body);
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  return text;
}

test('both emulators down: every browser call is 503 storage_unavailable, logged once; a turn goes on without images; after the restart all works and nothing was lost', async () => {
  const photo = await solidJpeg(640, 480, [200, 30, 30]);
  const session = await createBrowserSession(dev.url, ORIGIN);
  const first = await uploadThroughS3(dev.url, ORIGIN, session, photo);
  expect(first.status).toBe(200);
  const pendingId = await uploadWithoutComplete(session, await solidJpeg(320, 240, [30, 200, 30]));

  lines = [];
  await dev.dev.emulators.stop();
  const inline = `data:image/jpeg;base64,${(await solidJpeg(64, 48, [1, 2, 3])).toString('base64')}`;
  const s = `/sessions/${session.sessionId}`;
  await expectUnavailable(await call('POST', '/sessions', undefined, {}));
  await expectUnavailable(await call('GET', s, session));
  await expectUnavailable(
    await call('POST', `${s}/images`, session, { contentType: 'image/jpeg', contentLength: 10 }),
  );
  await expectUnavailable(
    await call('POST', `${s}/images`, session, { url: 'https://images.example.com/a.jpg' }),
  );
  await expectUnavailable(await call('POST', `${s}/images`, session, { data: inline }));
  await expectUnavailable(await call('POST', `${s}/images/${pendingId}/complete`, session));
  await expectUnavailable(await call('POST', `${s}/link`, session, { conversationId: 'conv_outage1' }));
  await expectUnavailable(await call('DELETE', s, session));

  // One line for the whole incident, naming the cause; nothing logged as a bug.
  const storageLines = lines.filter((l) => l.msg === STORAGE_LINE);
  expect(storageLines).toHaveLength(1);
  expect(storageLines[0]).toMatchObject({ level: 'error', error: expect.stringContaining('ECONNREFUSED') });
  expect(lines.filter((l) => l.msg === 'request failed')).toEqual([]);

  // A voice turn never dies for its images; the outage is one line however many turns meet it.
  for (let turn = 0; turn < 3; turn++) {
    expect(await chatTurn(session)).toBe('ok');
    expect(sentImages()).toBe(0);
  }
  expect(
    lines.filter((l) => l.msg === 'session store unavailable; answering without session images'),
  ).toEqual([expect.objectContaining({ level: 'warn', error: expect.stringContaining('ECONNREFUSED') })]);

  await dev.dev.emulators.restart();
  const got = await call('GET', s, session);
  expect(got.status).toBe(200);
  const view = (await got.json()) as { images: { imageId: string; status: string }[] };
  expect(view.images).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ imageId: first.imageId, status: 'ready' }),
      expect.objectContaining({ imageId: pendingId, status: 'pending' }),
    ]),
  );
  // The upload made before the outage completes now: its raw bytes were kept.
  const done = await call('POST', `${s}/images/${pendingId}/complete`, session);
  expect(done.status).toBe(200);
  expect(await chatTurn(session)).toBe('ok');
  expect(sentImages()).toBe(2);
  expect((await call('POST', '/sessions', undefined, {})).status).toBe(201);
  expect((await call('DELETE', s, session)).status).toBe(204);
});

test('S3 alone down: completing is 503 and keeps the upload; the session is still readable; completing after the restart works', async () => {
  const session = await createBrowserSession(dev.url, ORIGIN);
  const pendingId = await uploadWithoutComplete(session, await solidJpeg(320, 240, [30, 30, 200]));
  const s = `/sessions/${session.sessionId}`;
  await dev.dev.emulators.stop('s3');
  await expectUnavailable(await call('POST', `${s}/images/${pendingId}/complete`, session));
  const inline = `data:image/jpeg;base64,${(await solidJpeg(64, 48, [9, 8, 7])).toString('base64')}`;
  await expectUnavailable(await call('POST', `${s}/images`, session, { data: inline }));
  const got = await call('GET', s, session);
  expect(got.status).toBe(200);
  // The refused inline image left no record; the upload is still pending.
  expect(((await got.json()) as { images: { imageId: string; status: string }[] }).images).toEqual([
    expect.objectContaining({ imageId: pendingId, status: 'pending' }),
  ]);
  // Deleting needs S3 too: refused, and nothing half-deleted.
  await expectUnavailable(await call('DELETE', s, session));
  expect((await call('GET', s, session)).status).toBe(200);

  await dev.dev.emulators.restart('s3');
  expect((await call('POST', `${s}/images/${pendingId}/complete`, session)).status).toBe(200);
  expect((await call('POST', `${s}/images`, session, { data: inline })).status).toBe(201);
});

test('a DELETE refused for an S3 outage removes nothing after its 503: the pending uploads complete once S3 is back', async () => {
  // The race behind a flaky run of the test above: the 503 went out at the first failed delete
  // while the other deletes were still in the SDK's retry back-off, and their retries, landing
  // after the restart, removed the pending upload's raw object (complete then said 409
  // upload_not_found). Several pending uploads make it near-certain some delete straggles.
  const session = await createBrowserSession(dev.url, ORIGIN);
  const pending: string[] = [];
  for (const blue of [100, 150, 200])
    pending.push(await uploadWithoutComplete(session, await solidJpeg(64, 48, [30, 30, blue])));
  const s = `/sessions/${session.sessionId}`;
  await dev.dev.emulators.stop('s3');
  await expectUnavailable(await call('DELETE', s, session));
  await dev.dev.emulators.restart('s3');
  // Longer than the SDK's back-off before its one retry (at most 200 ms): a straggling delete
  // would have landed by now.
  await new Promise((resolve) => setTimeout(resolve, 600));
  for (const imageId of pending)
    expect((await call('POST', `${s}/images/${imageId}/complete`, session)).status).toBe(200);
});
