// A voice turn must not die for its images: an unreachable session store or an unreadable image
// object is logged and the turn is answered without them. And per-session budgets end in a 429.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import OpenAI from 'openai';
import { createImageContext } from '../../../shared/context/image-context';
import { DEFAULT_IMAGE_LIMITS } from '../../../shared/images/normalize';
import { createLogger } from '../../../shared/observability/log';
import { ImageObjects } from '../../../shared/sessions/image-objects';
import { SessionStore } from '../../../shared/sessions/store';
import { type FakeOpenAIServer, startOpenAIServer } from '../../fakes/openai-server';
import { cameraPhoto } from '../../helpers/camera-photo';
import { startChatServer } from '../../helpers/chat-server';
import {
  createBrowserSession,
  type RunningDevServer,
  startDevServer,
  uploadThroughS3,
} from '../../helpers/dev-server';

const ORIGIN = 'https://app.example.com';
let upstream: FakeOpenAIServer;
let dev: RunningDevServer;

beforeAll(async () => {
  upstream = await startOpenAIServer({ reply: ['ok'] });
  dev = await startDevServer({
    env: {
      OPENAI_API_KEY: 'k',
      OPENAI_BASE_URL: `${upstream.url}/v1`,
      ALLOWED_ORIGINS: ORIGIN,
      SESSION_MAX_TOKENS: '20',
    },
  });
});
afterAll(async () => {
  await dev?.close();
  await upstream?.close();
});

type Part = { type: string };
const imageCount = () =>
  (upstream.requests.at(-1)!.body as { messages: { content: string | Part[] }[] }).messages
    .flatMap((m) => (typeof m.content === 'string' ? [] : m.content))
    .filter((p) => p.type === 'image_url').length;

function enricherWith(store: SessionStore, objects: ImageObjects, lines: string[]) {
  return createImageContext({
    store: { store, objects },
    log: createLogger('info', {}, (l) => lines.push(l)),
    limits: DEFAULT_IMAGE_LIMITS,
    fetchImage: async () => Buffer.alloc(0),
    deliveryFor: () => 'inline',
  });
}

test('an unreachable session store: the turn is answered without images and the failure logged', async () => {
  const lines: string[] = [];
  const dead = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      maxAttempts: 1,
    }),
  );
  const objects = new ImageObjects(new S3Client({ region: 'us-east-1' }), 'none');
  const server = await startChatServer(
    { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: `${upstream.url}/v1` },
    {
      enricher: enricherWith(
        new SessionStore({ client: dead, tableName: 'sessions', objects }),
        objects,
        lines,
      ),
    },
  );
  try {
    const client = new OpenAI({ apiKey: 'x', baseURL: `${server.url}/v1`, maxRetries: 0 });
    const r = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      // @ts-expect-error ElevenLabs' extension field
      elevenlabs_extra_body: { session_id: 's_AAAAAAAAAAAAAAAAAAAAAA' },
    });
    expect(r.choices[0]!.message.content).toBe('ok');
    expect(imageCount()).toBe(0);
    expect(lines.map((l) => JSON.parse(l).msg)).toContain(
      'session store unavailable; answering without session images',
    );
  } finally {
    await server.close();
  }
});

test('an image object that cannot be read is left out of the turn, which is still answered', async () => {
  const session = await createBrowserSession(dev.url, ORIGIN);
  const up = await uploadThroughS3(dev.url, ORIGIN, session, await cameraPhoto(800, 600));
  expect(up.status).toBe(200);
  const { emulators, env } = dev.dev;
  const creds = emulators.credentials;
  const doc = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: emulators.dynamoEndpoint, region: emulators.region, credentials: creds }),
  );
  // The right table, but a bucket that does not exist: every image read fails.
  const s3 = new S3Client({
    endpoint: emulators.s3Endpoint,
    region: emulators.region,
    credentials: creds,
    forcePathStyle: true,
  });
  const objects = new ImageObjects(s3, 'missing-bucket');
  const lines: string[] = [];
  const server = await startChatServer(
    { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: `${upstream.url}/v1` },
    {
      enricher: enricherWith(
        new SessionStore({ client: doc, tableName: env.SESSIONS_TABLE!, objects }),
        objects,
        lines,
      ),
    },
  );
  try {
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-4o',
        stream: true,
        elevenlabs_extra_body: { session_id: session.sessionId },
        messages: [{ role: 'user', content: 'see?' }],
      }),
    });
    expect((await res.text()).endsWith('data: [DONE]\n\n')).toBe(true);
    expect(imageCount()).toBe(0);
    expect(lines.map((l) => JSON.parse(l).msg)).toContain(
      'could not load a session image; answering without it',
    );
  } finally {
    await server.close();
  }
});

test.each([
  ['chat completions', '/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }] }],
  ['Responses', '/v1/responses', { input: 'hi' }],
])(
  '%s: a session over its token budget gets a 429 with retry-after, before any upstream call',
  async (_door, path, turn) => {
    const session = await createBrowserSession(dev.url, ORIGIN);
    const body = JSON.stringify({
      model: 'gpt-4o',
      elevenlabs_extra_body: { session_id: session.sessionId },
      ...turn,
    });
    const post = () =>
      fetch(`${dev.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    expect((await post()).status).toBe(200); // the fake reports 12 + 1 tokens: under 20
    // Usage is added after the answer is sent; wait until the second turn's total crosses 20.
    let blocked: Response | undefined;
    for (let i = 0; i < 40 && !blocked; i++) {
      const r = await post();
      if (r.status === 429) blocked = r;
      else await new Promise((res) => setTimeout(res, 50));
    }
    expect(blocked).toBeDefined();
    expect(Number(blocked!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await blocked!.json()) as { error: unknown }).error).toMatchObject({
      type: 'rate_limit_error',
      code: 'session_budget_exceeded',
    });
    const before = upstream.requests.length;
    expect((await post()).status).toBe(429);
    expect(upstream.requests.length).toBe(before);
  },
);
