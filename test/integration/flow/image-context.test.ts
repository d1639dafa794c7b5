// The whole flow through real clients and the emulators: a browser creates a session, uploads
// straight to S3 with a presigned POST, completes; then ElevenLabs-shaped chat turns through the
// official `openai` client reach a fake upstream that must see the image at the expected place,
// with an identical prefix on the next turn.
import OpenAI from 'openai';
import sharp from 'sharp';
import { type FakeOpenAIServer, startOpenAIServer } from '../../fakes/openai-server';
import { cameraPhoto } from '../../helpers/camera-photo';
import {
  createBrowserSession,
  type RunningDevServer,
  startDevServer,
  uploadThroughS3,
} from '../../helpers/dev-server';

let upstream: FakeOpenAIServer;
let server: RunningDevServer;
let client: OpenAI;
const ORIGIN = 'https://app.example.com';
const KEY = 'chat-key';

type Part = { type: string; text?: string; image_url?: { url: string } };
type Msg = { role: string; content: string | Part[] };
const sentMessages = () => (upstream.requests.at(-1)!.body as { messages: Msg[] }).messages;
const imagesIn = (m: Msg) =>
  typeof m.content === 'string' ? [] : m.content.filter((p) => p.type === 'image_url');

async function jpeg(color: [number, number, number], width = 3000, height = 2000): Promise<Buffer> {
  return sharp({
    create: { width, height, channels: 3, background: { r: color[0], g: color[1], b: color[2] } },
  })
    .jpeg({ quality: 90 })
    .toBuffer();
}

async function decodedSize(dataUri: string): Promise<{ width: number; height: number; bytes: number }> {
  const bytes = Buffer.from(dataUri.slice(dataUri.indexOf(',') + 1), 'base64');
  const meta = await sharp(bytes).metadata();
  return { width: meta.width!, height: meta.height!, bytes: bytes.length };
}

beforeAll(async () => {
  upstream = await startOpenAIServer({ reply: ['I', ' see', ' it.'] });
  server = await startDevServer({
    env: {
      OPENAI_API_KEY: 'sk-up',
      OPENAI_BASE_URL: `${upstream.url}/v1`,
      CHAT_API_KEY: KEY,
      ALLOWED_ORIGINS: ORIGIN,
      MODEL_ROUTES: JSON.stringify({
        'gpt-4o': ['openai:gpt-4o'],
        'gpt-4o-url': [{ target: 'openai:gpt-4o', imageDelivery: 'url' }],
      }),
    },
    fetchMessageImage: async () => jpeg([0, 200, 0], 800, 600),
  });
  client = new OpenAI({ apiKey: KEY, baseURL: `${server.url}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await server?.close();
  await upstream?.close();
});
beforeEach(() => {
  upstream.requests.length = 0;
});

const system = { role: 'system' as const, content: 'You are a voice agent that can see.' };
const greeting = { role: 'assistant' as const, content: 'Hi! Show me something.' };

async function turn(
  messages: OpenAI.ChatCompletionMessageParam[],
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  const stream = await client.chat.completions.create(
    { model: 'gpt-4o', stream: true, messages, ...extra } as OpenAI.ChatCompletionCreateParamsStreaming,
    { headers },
  );
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
  return text;
}

test('an uploaded photo reaches the model at the turn it entered, normalized, and stays put', async () => {
  const session = await createBrowserSession(server.url, ORIGIN);
  // A 12-megapixel camera-like photo (texture compresses like a real one), not a flat colour.
  const photo = await cameraPhoto(4032, 3024);
  const up = await uploadThroughS3(server.url, ORIGIN, session, photo);
  expect(up.status).toBe(200);
  expect(up.body).toMatchObject({ status: 'ready', width: 1238, height: 928 });

  const extra = { elevenlabs_extra_body: { session_id: session.sessionId } };
  const turn1 = [system, greeting, { role: 'user' as const, content: 'What do you see?' }];
  expect(await turn(turn1, extra)).toBe('I see it.');
  const first = sentMessages();
  expect(first.map((m) => m.role)).toEqual(['system', 'assistant', 'user']);
  const [image] = imagesIn(first[2]!);
  expect(image?.image_url?.url.startsWith('data:image/jpeg;base64,')).toBe(true);
  const size = await decodedSize(image!.image_url!.url);
  expect(size).toMatchObject({ width: 1238, height: 928 });
  // The turn carries the normalized derivative: at least 10x fewer bytes than the upload.
  expect(size.bytes * 10).toBeLessThan(photo.length);

  const turn2 = [
    ...turn1,
    { role: 'assistant' as const, content: 'I see it.' },
    { role: 'user' as const, content: 'What colour is it?' },
  ];
  await turn(turn2, extra);
  const second = sentMessages();
  // Identical prefix: the first three messages are byte-for-byte what turn 1 sent.
  expect(JSON.stringify(second.slice(0, 3))).toBe(JSON.stringify(first));
  expect(imagesIn(second[4]!)).toHaveLength(0);
}, 60_000);

test('a newer image in a slot replaces the older one for later turns', async () => {
  const session = await createBrowserSession(server.url, ORIGIN);
  const extra = { elevenlabs_extra_body: { session_id: session.sessionId } };
  await uploadThroughS3(server.url, ORIGIN, session, await jpeg([10, 10, 200], 400, 300), { slot: 'canvas' });
  await turn([system, { role: 'user', content: 'Look at my drawing' }], extra);
  const before = imagesIn(sentMessages()[1]!);
  expect(before).toHaveLength(1);
  await uploadThroughS3(server.url, ORIGIN, session, await jpeg([250, 250, 10], 400, 300), {
    slot: 'canvas',
  });
  await turn(
    [
      system,
      { role: 'user', content: 'Look at my drawing' },
      { role: 'assistant', content: 'ok' },
      { role: 'user', content: 'And now?' },
    ],
    extra,
  );
  const all = sentMessages().flatMap(imagesIn);
  expect(all).toHaveLength(1);
  expect(all[0]!.image_url!.url).not.toBe(before[0]!.image_url!.url);
});

test('the session is found through x-session-id, a prompt marker, and a linked conversation id', async () => {
  const session = await createBrowserSession(server.url, ORIGIN);
  await uploadThroughS3(server.url, ORIGIN, session, await jpeg([1, 2, 3], 300, 200));
  const user = { role: 'user' as const, content: 'see?' };

  await turn([system, user], {}, { 'x-session-id': session.sessionId });
  expect(sentMessages().flatMap(imagesIn)).toHaveLength(1);

  await turn([{ role: 'system', content: `You can see. [session:${session.sessionId}]` }, user]);
  expect(sentMessages().flatMap(imagesIn)).toHaveLength(1);

  const conversationId = `conv_${Date.now()}abc`;
  const link = await fetch(`${server.url}/sessions/${session.sessionId}/link`, {
    method: 'POST',
    headers: {
      origin: ORIGIN,
      'content-type': 'application/json',
      'x-session-secret': session.sessionSecret,
    },
    body: JSON.stringify({ conversationId }),
  });
  expect(link.status).toBeLessThan(300);
  await turn([system, user], {}, { 'x-conversation-id': conversationId });
  expect(sentMessages().flatMap(imagesIn)).toHaveLength(1);

  // No reference at all: plain chat, no images.
  await turn([system, user]);
  expect(sentMessages().flatMap(imagesIn)).toHaveLength(0);
});

test('an unknown session id is plain chat, not an error', async () => {
  const text = await turn([system, { role: 'user', content: 'hi' }], {
    elevenlabs_extra_body: { session_id: 's_AAAAAAAAAAAAAAAAAAAAAA' },
  });
  expect(text).toBe('I see it.');
  expect(sentMessages().flatMap(imagesIn)).toHaveLength(0);
});

test('an image arriving inside messages is normalized and kept in the session for later turns', async () => {
  const session = await createBrowserSession(server.url, ORIGIN);
  const extra = { elevenlabs_extra_body: { session_id: session.sessionId } };
  const big = await jpeg([90, 90, 90], 2400, 1800);
  const dataUri = `data:image/jpeg;base64,${big.toString('base64')}`;
  await turn(
    [
      system,
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Here' },
          { type: 'image_url', image_url: { url: dataUri } },
        ],
      },
    ],
    extra,
  );
  const forwarded = sentMessages().flatMap(imagesIn);
  expect(forwarded).toHaveLength(1);
  const size = await decodedSize(forwarded[0]!.image_url!.url);
  expect(size.width).toBeLessThanOrEqual(1568);
  expect(size.width * size.height).toBeLessThanOrEqual(1_150_000);

  // A later turn whose history no longer carries the image still gets it, at the same turn.
  await turn(
    [
      system,
      { role: 'user', content: 'Here' },
      { role: 'assistant', content: 'ok' },
      { role: 'user', content: 'Again?' },
    ],
    extra,
  );
  const later = sentMessages();
  expect(imagesIn(later[1]!)).toHaveLength(1);
  expect(imagesIn(later[1]!)[0]!.image_url!.url).toBe(forwarded[0]!.image_url!.url);
  expect(imagesIn(later[3]!)).toHaveLength(0);

  // The same image resent in history is not stored or shown twice.
  await turn(
    [
      system,
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Here' },
          { type: 'image_url', image_url: { url: dataUri } },
        ],
      },
      { role: 'assistant', content: 'ok' },
      { role: 'user', content: 'Again?' },
    ],
    extra,
  );
  expect(sentMessages().flatMap(imagesIn)).toHaveLength(1);
});

test('an invalid image inside messages is a 400 naming the problem, and nothing goes upstream', async () => {
  const svg = `data:image/svg+xml;base64,${Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>').toString('base64')}`;
  await expect(
    client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: svg } }] }],
    }),
  ).rejects.toMatchObject({ status: 400, error: expect.objectContaining({ code: 'svg_not_allowed' }) });
  expect(upstream.requests).toHaveLength(0);
});

test('a target configured for URL delivery gets a presigned S3 GET URL, stable across turns', async () => {
  const session = await createBrowserSession(server.url, ORIGIN);
  await uploadThroughS3(server.url, ORIGIN, session, await jpeg([5, 120, 5], 600, 400));
  const extra = { elevenlabs_extra_body: { session_id: session.sessionId } };
  const ask = async (messages: OpenAI.ChatCompletionMessageParam[]) => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-url',
      stream: true,
      messages,
      ...extra,
    } as OpenAI.ChatCompletionCreateParamsStreaming);
    for await (const _ of stream) {
      // drain
    }
    return sentMessages().flatMap(imagesIn);
  };
  const [first] = await ask([system, { role: 'user', content: 'What is it?' }]);
  const url = first!.image_url!.url;
  expect(url.startsWith(server.dev.emulators.s3Endpoint)).toBe(true);
  expect(url).toContain('X-Amz-Signature=');
  // The URL really serves the normalized image (a real presigned GET against the S3 emulator).
  const got = await fetch(url);
  expect(got.status).toBe(200);
  const meta = await sharp(Buffer.from(await got.arrayBuffer())).metadata();
  expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 600, 400]);
  // The next turn reuses the same URL, so the prompt prefix stays identical.
  const [again] = await ask([
    system,
    { role: 'user', content: 'What is it?' },
    { role: 'assistant', content: 'A square.' },
    { role: 'user', content: 'Sure?' },
  ]);
  expect(again!.image_url!.url).toBe(url);
});
