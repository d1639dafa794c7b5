// The sessions Lambda entry, invoked as the runtime does for a buffered function URL (payload
// v2), configured only through its environment, against the emulators and a fake ElevenLabs.
import { type FakeElevenLabs, startFakeElevenLabs } from '../../fakes/elevenlabs-server';
import {
  APP_ORIGIN,
  type CreatedSession,
  type ErrorBody,
  startTestStorage,
  storageEnv,
  type TestStorage,
} from './harness';
import { type FunctionUrlHandler, functionUrlEvent, lambdaContext, parseResult } from './lambda-event';

let storage: TestStorage;
let fake: FakeElevenLabs;
let handler: FunctionUrlHandler;
const savedEnv = { ...process.env };

beforeAll(async () => {
  storage = await startTestStorage();
  fake = await startFakeElevenLabs();
  Object.assign(process.env, {
    ...storageEnv(storage),
    AUTH_MODE: 'anonymous',
    ALLOWED_ORIGINS: `${APP_ORIGIN},http://localhost:5173`,
    UPLOADS_URL: 'https://uploads.lambda-url.us-east-1.on.aws/',
    ELEVENLABS_API_KEY: fake.apiKey,
    ELEVENLABS_AGENT_ID: fake.agentId,
    ELEVENLABS_BASE_URL: fake.url,
    LOG_LEVEL: 'error',
  });
  delete process.env.ELEVENLABS_SECRET_ARN;
  ({ handler } = await import('../../../functions/sessions/handler'));
});
afterAll(async () => {
  process.env = savedEnv;
  await fake.close();
  await storage.close();
});

test('POST /sessions through the Lambda entry: 201, ElevenLabs token, upload URL from UPLOADS_URL, no CORS headers', async () => {
  const result = await handler(
    functionUrlEvent('POST', '/sessions', { body: {}, headers: { origin: APP_ORIGIN } }),
    lambdaContext(),
  );
  const res = parseResult<CreatedSession>(result);
  expect(res.status).toBe(201);
  expect(res.json.uploadUrl).toBe(
    `https://uploads.lambda-url.us-east-1.on.aws/sessions/${res.json.sessionId}/images`,
  );
  expect(res.json.elevenLabs?.conversationToken).toMatch(/^eyJ/);
  expect(JSON.stringify(res.json)).not.toContain(fake.apiKey);
  // CORS belongs to the function URL configuration, never to the handler.
  expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);

  const got = parseResult<{ sessionId: string }>(
    await handler(
      functionUrlEvent('GET', `/sessions/${res.json.sessionId}`, {
        headers: { origin: APP_ORIGIN, 'x-session-secret': res.json.sessionSecret },
      }),
      lambdaContext(),
    ),
  );
  expect([got.status, got.json.sessionId]).toEqual([200, res.json.sessionId]);
});

test('refusals are OpenAI-style JSON errors', async () => {
  const res = parseResult<ErrorBody>(
    await handler(
      functionUrlEvent('POST', '/sessions', { headers: { origin: 'https://evil.example.com' } }),
      lambdaContext(),
    ),
  );
  expect(res.status).toBe(403);
  expect(res.headers['content-type']).toBe('application/json');
  expect(res.json.error).toEqual({
    message: expect.any(String),
    type: 'permission_error',
    param: null,
    code: 'origin_not_allowed',
  });

  const unknown = parseResult<ErrorBody>(await handler(functionUrlEvent('GET', '/nowhere'), lambdaContext()));
  expect([unknown.status, unknown.json.error.code]).toEqual([404, 'unknown_url']);
});

test('a storage outage through the Lambda entry: 503 storage_unavailable with retry-after, one log line, then recovery', async () => {
  // A fresh container: an earlier test's slow call on a loaded machine must not have opened (and
  // throttled the log line of) an incident already.
  let fresh: FunctionUrlHandler | undefined;
  await jest.isolateModulesAsync(async () => {
    ({ handler: fresh } = await import('../../../functions/sessions/handler'));
  });
  const handler = fresh!;
  const written: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    await storage.emu.stop();
    for (let i = 0; i < 3; i++) {
      const res = parseResult<ErrorBody>(
        await handler(
          functionUrlEvent('POST', '/sessions', { body: {}, headers: { origin: APP_ORIGIN } }),
          lambdaContext(),
        ),
      );
      expect([res.status, res.headers['retry-after'], res.json.error.code]).toEqual([
        503,
        '5',
        'storage_unavailable',
      ]);
    }
  } finally {
    spy.mockRestore();
    await storage.emu.restart();
  }
  const lines = written
    .flatMap((w) => w.split('\n'))
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { msg: string; level: string });
  expect(lines).toEqual([
    expect.objectContaining({ level: 'error', msg: expect.stringMatching(/^storage unavailable/) }),
  ]);
  const after = await handler(
    functionUrlEvent('POST', '/sessions', { body: {}, headers: { origin: APP_ORIGIN } }),
    lambdaContext(),
  );
  expect(parseResult(after).status).toBe(201);
});
