// The two browser functions as deployed: sessions and uploads bundles run by AWS's runtime
// interface client behind BUFFERED function URLs with the stack's CORS, DynamoDB and S3 in the
// emulators; an image goes up through the real presigned POST, then a chat turn sees it.

import { type FakeOpenAIServer, startOpenAIServer } from '../../fakes/openai-server';
import { createBrowserSession, uploadThroughS3 } from '../../helpers/dev-server';
import { jpegWithGps, solidJpeg } from '../uploads/test-images';
import { type Bundles, buildBundles, type RunningLambdaApp, startRuntimeApp } from './harness';

let bundles: Bundles;
let run: RunningLambdaApp;
let upstream: FakeOpenAIServer;

beforeAll(async () => {
  [bundles, upstream] = await Promise.all([
    buildBundles(['sessions', 'uploads', 'chat']),
    startOpenAIServer(),
  ]);
  run = await startRuntimeApp(bundles.codeRoot, {
    llmSecret: { CHAT_API_KEY: 'k', OPENAI_API_KEY: 'sk' },
    overrides: { chat: { OPENAI_BASE_URL: `${upstream.url}/v1` } },
  });
}, 60_000);

afterAll(async () => {
  await run?.app.close();
  await upstream?.close();
  bundles?.remove();
});

const origin = () => run.app.url;

test('sessions: create, then read it back, each a buffered invocation of the sessions function', async () => {
  const session = await createBrowserSession(run.app.url, origin());
  expect(session.sessionId).toMatch(/^s_/);
  const res = await fetch(`${run.app.url}/sessions/${session.sessionId}`, {
    headers: { origin: origin(), 'x-session-secret': session.sessionSecret },
  });
  expect(res.status).toBe(200);
  // The function URL's CORS (from the stack) answers the browser.
  expect(res.headers.get('access-control-allow-origin')).toBe(origin());
  expect(await res.json()).toMatchObject({ sessionId: session.sessionId, images: [] });
  expect(run.inits('sessions')).toBe(1);
  expect(run.app.urls.sessions.environments[0]!.invocations).toBe(2);
  // The ElevenLabs secret was read through the Secrets Manager stand-in at cold start.
  expect(run.app.secrets.reads.size).toBeGreaterThanOrEqual(1);
});

test('a CORS preflight is answered by the URL itself, without invoking a function', async () => {
  const invokes = run.app.events.filter((e) => e.type === 'invoke').length;
  const res = await fetch(`${run.app.url}/sessions`, {
    method: 'OPTIONS',
    headers: {
      origin: origin(),
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    },
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('access-control-allow-origin')).toBe(origin());
  expect(res.headers.get('access-control-allow-headers')).toContain('x-session-secret');
  expect(run.app.events.filter((e) => e.type === 'invoke').length).toBe(invokes);
});

test('uploads: presign, a real multipart POST to S3, complete; the image is normalized and the next chat turn sends it', async () => {
  const session = await createBrowserSession(run.app.url, origin());
  const up = await uploadThroughS3(run.app.url, origin(), session, await jpegWithGps());
  expect(up.status).toBe(200);
  expect(up.body).toMatchObject({ status: 'ready', mime: 'image/jpeg', width: 320, height: 240 });
  expect(run.inits('uploads')).toBe(1);

  const res = await fetch(`${run.app.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
    body: JSON.stringify({
      model: 'gpt-4o',
      stream: true,
      elevenlabs_extra_body: { session_id: session.sessionId },
      messages: [{ role: 'user', content: 'What do you see?' }],
    }),
  });
  expect(res.status).toBe(200);
  await res.text();
  const sent = upstream.requests.at(-1)!.body as { messages: { content: unknown }[] };
  expect(JSON.stringify(sent.messages)).toContain('data:image/jpeg;base64,');
});

test('an inline image over the limit is refused by the uploads function with its precise error', async () => {
  const session = await createBrowserSession(run.app.url, origin());
  const big = await solidJpeg(64, 64, [1, 2, 3]);
  const res = await fetch(`${run.app.url}/sessions/${session.sessionId}/images`, {
    method: 'POST',
    headers: {
      origin: origin(),
      'content-type': 'application/json',
      'x-session-secret': session.sessionSecret,
    },
    body: JSON.stringify({
      data: `data:image/jpeg;base64,${Buffer.concat([big, Buffer.alloc(3 * 1024 * 1024)]).toString('base64')}`,
    }),
  });
  expect(res.status).toBe(413);
  expect(((await res.json()) as { error: unknown }).error).toMatchObject({
    message: expect.stringMatching(/limit|large|bytes/i),
  });
});
