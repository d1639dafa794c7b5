// The two browser functions as deployed: sessions and uploads bundles run by AWS's runtime
// interface client behind BUFFERED function URLs with the stack's CORS, DynamoDB and S3 in the
// emulators; an image goes up through the real presigned POST, then a chat turn sees it.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { LOCAL_NAMES } from '../../../infra/local/dev-app';
import { budgetKeys } from '../../../shared/limits/budget';
import { type FakeOpenAIServer, startOpenAIServer } from '../../fakes/openai-server';
import { createBrowserSession, uploadThroughS3 } from '../../helpers/dev-server';
import { documentClient } from '../../helpers/dynamo';
import { jpegWithGps, solidJpeg } from '../uploads/test-images';
import { type Bundles, buildBundles, type RunningLambdaApp, startRuntimeApp } from './harness';

let bundles: Bundles;
let run: RunningLambdaApp;
let upstream: FakeOpenAIServer;
let slowWrites: SlowWrites;

/**
 * How long the DynamoDB stand-in holds the chat function's UpdateItem answers: a usage write
 * (which gives up at 300 ms) a little, any other write (an image's anchor) well beyond the turn.
 */
const USAGE_WRITE_DELAY_MS = 150;
const OTHER_WRITE_DELAY_MS = 1000;

interface SlowWrites {
  url: string;
  /** Each UpdateItem answered to the function: its item's key and when the answer left. */
  answered: { key: string; at: number }[];
  target: string;
  close(): Promise<void>;
}

/** A proxy to DynamoDB that answers UpdateItem late: a slow write the function started and did not await. */
async function startSlowWrites(): Promise<SlowWrites> {
  const state: SlowWrites = { url: '', answered: [], target: '', close: async () => {} };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const upstreamRes = await fetch(`${state.target}${req.url ?? '/'}`, {
        method: req.method ?? 'POST',
        headers: Object.fromEntries(
          Object.entries(req.headers).filter(
            (e): e is [string, string] => typeof e[1] === 'string' && e[0] !== 'host',
          ),
        ),
        body: Buffer.concat(chunks),
      });
      const body = Buffer.from(await upstreamRes.arrayBuffer());
      const update = req.headers['x-amz-target'] === 'DynamoDB_20120810.UpdateItem';
      if (update) {
        const usage = Buffer.concat(chunks).toString('utf8').includes('"BUDGET#');
        await new Promise((r) => setTimeout(r, usage ? USAGE_WRITE_DELAY_MS : OTHER_WRITE_DELAY_MS));
      }
      res.writeHead(upstreamRes.status, {
        'content-type': upstreamRes.headers.get('content-type') ?? 'application/json',
      });
      res.end(body);
      if (update) {
        const { Key } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          Key: Record<string, { S?: string }>;
        };
        state.answered.push({ key: `${Key.pk?.S}|${Key.sk?.S}`, at: performance.now() });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

beforeAll(async () => {
  [bundles, upstream, slowWrites] = await Promise.all([
    buildBundles(['sessions', 'uploads', 'chat']),
    startOpenAIServer(),
    startSlowWrites(),
  ]);
  run = await startRuntimeApp(bundles.codeRoot, {
    llmSecret: { CHAT_API_KEY: 'k', OPENAI_API_KEY: 'sk' },
    overrides: { chat: { OPENAI_BASE_URL: `${upstream.url}/v1`, AWS_ENDPOINT_URL_DYNAMODB: slowWrites.url } },
  });
  slowWrites.target = run.app.emulators.dynamoEndpoint;
}, 60_000);

afterAll(async () => {
  await run?.app.close();
  await Promise.all([upstream?.close(), slowWrites?.close()]);
  bundles?.remove();
});

const origin = () => run.app.url;

/** When the last chat invocation's response ended, and when the runtime then asked for the next event. */
async function chatInvocationAfter(eventIndex: number): Promise<{ endAt: number; nextAt: number }> {
  for (let i = 0; i < 200; i++) {
    const events = run.app.events.slice(eventIndex).filter((e) => e.fn === 'chat');
    const end = events.find((e) => e.type === 'response-end');
    const next = end && events.find((e) => e.type === 'next' && e.at >= end.at);
    if (end && next) return { endAt: end.at, nextAt: next.at };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the chat invocation did not end');
}

/** A streamed voice turn that names its session the way the browser passes it to ElevenLabs. */
const sessionTurn = (sessionId: string) =>
  fetch(`${run.app.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
    body: JSON.stringify({
      model: 'gpt-4o',
      stream: true,
      elevenlabs_extra_body: { session_id: sessionId },
      messages: [{ role: 'user', content: 'What do you see?' }],
    }),
  });

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
  // Presign and complete run warm in one environment; the POST's bucket notification, an
  // asynchronous invocation arriving with complete, may take it and leave complete a second one.
  expect(run.inits('uploads')).toBeLessThanOrEqual(2);

  const before = run.app.events.length;
  const started = performance.now();
  const res = await sessionTurn(session.sessionId);
  expect(res.status).toBe(200);
  await res.text();
  const sent = upstream.requests.at(-1)!.body as { messages: { content: unknown }[] };
  expect(JSON.stringify(sent.messages)).toContain('data:image/jpeg;base64,');
  // Where the image entered the conversation is recorded before the invocation ends (the next
  // turn places it at the same spot, so the provider's prompt cache keeps hitting).
  const { nextAt } = await chatInvocationAfter(before);
  const anchor = slowWrites.answered.find((w) => w.key.includes(up.imageId) && w.at > started);
  expect(anchor).toBeDefined();
  expect(nextAt).toBeGreaterThanOrEqual(anchor!.at);
});

test("a second POST through a completed image's form: the bucket notification invokes the uploads function, which removes it", async () => {
  const session = await createBrowserSession(run.app.url, origin());
  const photo = await solidJpeg(320, 240, [10, 160, 60]);
  const headers = {
    origin: origin(),
    'content-type': 'application/json',
    'x-session-secret': session.sessionSecret,
  };
  const formRes = await fetch(`${run.app.url}/sessions/${session.sessionId}/images`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ contentType: 'image/jpeg', contentLength: photo.length }),
  });
  const form = (await formRes.json()) as {
    imageId: string;
    upload: { url: string; fields: Record<string, string> };
  };
  const post = async (bytes: Buffer) => {
    const data = new FormData();
    for (const [k, v] of Object.entries(form.upload.fields)) data.append(k, v);
    data.append('file', new Blob([bytes], { type: 'image/jpeg' }), 'upload.jpg');
    expect((await fetch(form.upload.url, { method: 'POST', body: data })).status).toBeLessThan(300);
  };
  await post(photo);
  const done = await fetch(`${run.app.url}/sessions/${session.sessionId}/images/${form.imageId}/complete`, {
    method: 'POST',
    headers,
  });
  expect(done.status).toBe(200);
  await run.app.emulators.notifications.settled();

  const rawKey = `uploads/${session.sessionId}/${form.imageId}`;
  await post(Buffer.alloc(photo.length, 0x3c));
  await run.app.emulators.notifications.settled();
  const { emulators } = run.app;
  const s3 = new S3Client({
    endpoint: emulators.s3Endpoint,
    region: emulators.region,
    credentials: emulators.credentials,
    forcePathStyle: true,
  });
  try {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: LOCAL_NAMES.bucket, Prefix: rawKey }));
    expect(listed.Contents ?? []).toEqual([]);
    const image = await s3.send(
      new GetObjectCommand({
        Bucket: LOCAL_NAMES.bucket,
        Key: `images/${session.sessionId}/${form.imageId}.jpg`,
      }),
    );
    expect(image.ContentType).toBe('image/jpeg');
  } finally {
    s3.destroy();
  }
  expect(run.jsonLogs('uploads')).toContainEqual(
    expect.objectContaining({
      level: 'info',
      msg: 'late raw upload removed on arrival',
      key: rawKey,
      reason: 'image_completed',
    }),
  );
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

// Regression: the turn's usage write (and the breaker's records) ran on after the handler
// returned; Lambda then froze the environment with the write half done, to land late or never.
test('the usage totals of a turn are written before its invocation ends, though the client had its answer first', async () => {
  const session = await createBrowserSession(run.app.url, origin());
  const before = run.app.events.length;
  const started = performance.now();
  await (await sessionTurn(session.sessionId)).text();
  const { endAt, nextAt } = await chatInvocationAfter(before);
  const usageKey = `${budgetKeys.partition(session.sessionId)}|${budgetKeys.usage}`;
  const write = slowWrites.answered.find((w) => w.key === usageKey && w.at > started);
  expect(write).toBeDefined();
  // The client's stream ended first; the runtime asked for the next event (and Lambda would
  // freeze the environment) only once the write was answered.
  expect(endAt).toBeLessThan(write!.at);
  expect(nextAt).toBeGreaterThanOrEqual(write!.at);
  const usage = await documentClient(run.app.emulators).send(
    new GetCommand({
      TableName: LOCAL_NAMES.controlTable,
      Key: { pk: budgetKeys.partition(session.sessionId), sk: budgetKeys.usage },
    }),
  );
  expect(usage.Item).toMatchObject({ tokensIn: 12 });
});
