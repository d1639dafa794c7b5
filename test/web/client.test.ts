// The browser client module (web/client) in Node against the whole local product (startDevServer:
// chat + sessions + uploads + DynamoDB and S3 emulators), with the fetch transport to S3. Every
// image path the client has, then a chat turn shaped like ElevenLabs' through the official openai
// client: the model upstream must receive what the client added, and no longer what it removed.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import sharp from 'sharp';
import { createSession, fetchTransport, VisionApiError, type VisionSession } from '../../web/client';
import { type FakeOpenAIServer, openaiReply, startOpenAIServer } from '../fakes/openai-server';
import { cameraPhoto } from '../helpers/camera-photo';
import { type RunningDevServer, startDevServer } from '../helpers/dev-server';
import { eventually } from '../integration/resilience/harness';

const ORIGIN = 'https://app.example.com';
let upstream: FakeOpenAIServer;
let dev: RunningDevServer;
let images: Server;
let imageUrl: string;

beforeAll(async () => {
  upstream = await startOpenAIServer();
  upstream.setDefault(openaiReply({ text: ['I see', ' them.'] }));
  const png = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#2e86e4' } })
    .png()
    .toBuffer();
  images = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(png));
  await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
  imageUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}/blue.png`;
  dev = await startDevServer({
    env: { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: `${upstream.url}/v1`, ALLOWED_ORIGINS: ORIGIN },
    // The URL image is served on loopback: allowed for this test only.
    browser: { urlFetch: { allowHttp: true, addressPolicy: (ip) => ip === '127.0.0.1' } },
  });
});
afterAll(async () => {
  await dev?.close();
  await upstream?.close();
  images?.closeAllConnections();
  await new Promise((resolve) => (images ? images.close(resolve) : resolve(undefined)));
});

const open = () => createSession({ apiUrl: dev.url, headers: { origin: ORIGIN } });

/** One streamed turn as ElevenLabs sends it; the image sizes the model upstream received. */
async function turnImageSizes(session: VisionSession): Promise<string[]> {
  upstream.requests.length = 0;
  const client = new OpenAI({ apiKey: 'x', baseURL: `${dev.url}/v1`, maxRetries: 0 });
  const stream = await client.chat.completions.create({
    model: 'gpt-4o',
    stream: true,
    max_tokens: -1,
    messages: [{ role: 'user', content: 'What do you see?' }],
    // ElevenLabs' custom LLM extra body, which the SDK's types do not know.
    ...{ elevenlabs_extra_body: session.customLlmExtraBody },
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  expect(text).toBe('I see them.');
  type Part = { type: string; image_url?: { url: string } };
  const body = upstream.requests[0]!.body as { messages: { content: string | Part[] }[] };
  const urls = body.messages
    .flatMap((m) => (typeof m.content === 'string' ? [] : m.content))
    .flatMap((p) => (p.type === 'image_url' ? [p.image_url!.url] : []));
  const sizes = await Promise.all(
    urls.map(async (u) => {
      const meta = await sharp(Buffer.from(u.slice(u.indexOf(',') + 1), 'base64')).metadata();
      return `${meta.width}x${meta.height}`;
    }),
  );
  return sizes.sort();
}

test('file (presigned POST to S3, with progress), data URI in a slot, URL; a turn sees all three; a removed one is gone', async () => {
  const session = await open();
  expect(session.id).toMatch(/^s_/);
  expect(session.elevenLabs).toBeNull();

  const progress: number[] = [];
  const photo = await cameraPhoto(1600, 1200);
  const fromFile = await session.addFile(new Blob([photo], { type: 'image/jpeg' }), {
    onProgress: (p) => progress.push(p.loaded / p.total),
  });
  expect(fromFile).toMatchObject({ status: 'ready', width: 1238, height: 928, slot: null });
  expect(progress).toEqual([0, 1]);

  const drawing = await sharp({ create: { width: 480, height: 320, channels: 3, background: '#ffffff' } })
    .png()
    .toBuffer();
  const fromData = await session.addDataUri(`data:image/png;base64,${drawing.toString('base64')}`, {
    slot: 'canvas',
  });
  expect(fromData).toMatchObject({ status: 'ready', width: 480, height: 320, slot: 'canvas' });

  const fromUrl = await session.addUrl(imageUrl);
  expect(fromUrl).toMatchObject({ status: 'ready', width: 300, height: 200 });

  const listed = await session.listImages();
  expect(listed.map((i) => i.imageId).sort()).toEqual(
    [fromFile.imageId, fromData.imageId, fromUrl.imageId].sort(),
  );
  expect(await turnImageSizes(session)).toEqual(['1238x928', '300x200', '480x320']);

  await session.removeImage(fromFile.imageId);
  expect((await session.listImages()).map((i) => i.imageId)).not.toContain(fromFile.imageId);
  expect(await turnImageSizes(session)).toEqual(['300x200', '480x320']);
});

test('refusals surface as VisionApiError with the API’s status and code, and leave no pending image', async () => {
  const session = await open();
  const refused = await session
    .addFile(new Blob([Buffer.from('Shopping list:\n- milk\n')], { type: 'image/jpeg' }))
    .catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(VisionApiError);
  expect(refused).toMatchObject({ status: 400, code: 'not_an_image' });
  expect((refused as Error).message).toContain('not an image');

  const svg = await session.addDataUri('data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=').catch((e: unknown) => e);
  expect(svg).toMatchObject({ status: 400, code: 'svg_not_allowed' });

  const gone = await session.removeImage('img_AAAAAAAAAAAAAAAAAAAAAA').catch((e: unknown) => e);
  expect(gone).toMatchObject({ status: 404, code: 'image_not_found', extra: { param: 'image_id' } });
  expect(await session.listImages()).toEqual([]);

  const foreign = await createSession({ apiUrl: dev.url, headers: { origin: 'https://evil.example' } }).catch(
    (e: unknown) => e,
  );
  expect(foreign).toMatchObject({ status: 403, code: 'origin_not_allowed' });
});

test('storage refusing the upload: upload_failed with S3’s code, and the pending image is removed', async () => {
  const s3Refusal = fetchTransport(
    async () =>
      new Response('<Error><Code>AccessDenied</Code><Message>Policy expired.</Message></Error>', {
        status: 403,
      }),
  );
  const session = await createSession({ apiUrl: dev.url, headers: { origin: ORIGIN }, transport: s3Refusal });
  const err = await session
    .addFile(new Blob([await cameraPhoto(800, 600)], { type: 'image/jpeg' }))
    .catch((e: unknown) => e);
  expect(err).toMatchObject({ status: 403, code: 'upload_failed', extra: { s3Code: 'AccessDenied' } });
  expect((err as Error).message).toContain('Policy expired.');
  expect(await session.listImages()).toEqual([]);
});

test('link the conversation, read it back, delete the session', async () => {
  const session = await open();
  await session.linkConversation('conv_client_test_1');
  expect((await session.get()).conversationId).toBe('conv_client_test_1');
  const bad = await session.linkConversation('not a conversation id').catch((e: unknown) => e);
  expect(bad).toMatchObject({ status: 400, code: 'invalid_conversation_id' });
  await session.delete();
  expect(await session.get().catch((e: unknown) => e)).toMatchObject({
    status: 404,
    code: 'session_not_found',
  });
});

test("usage(): the session's token and cost totals grow with its turns", async () => {
  const session = await open();
  expect(await session.usage()).toEqual({ available: true, tokensIn: 0, tokensOut: 0, costUsd: 0 });
  await turnImageSizes(session);
  // The chat function adds a turn's usage as the turn ends, without holding the answer for it.
  const used = await eventually(
    () => session.usage(),
    (u) => u.tokensOut > 0,
    5000,
  );
  expect(used.available).toBe(true);
  expect(used.tokensIn).toBeGreaterThan(0);
  expect(used.costUsd).toBeGreaterThan(0);
});
