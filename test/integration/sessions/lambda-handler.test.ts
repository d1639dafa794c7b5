// The sessions Lambda entry, invoked as the runtime does for a buffered function URL (payload
// v2), configured only through its environment, against the emulators and a fake ElevenLabs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAppAssets, writeAppAssets } from '../../../web/app/build';
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
/** Lambda's task root, holding app/ as scripts/build.ts writes it beside the bundle. */
const taskRoot = mkdtempSync(join(tmpdir(), 'sessions-task-'));

beforeAll(async () => {
  writeAppAssets(join(taskRoot, 'app'), await buildAppAssets());
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
    LAMBDA_TASK_ROOT: taskRoot,
    AWS_REGION: 'eu-west-1',
  });
  delete process.env.ELEVENLABS_SECRET_ARN;
  ({ handler } = await import('../../../functions/sessions/handler'));
});
afterAll(async () => {
  process.env = savedEnv;
  rmSync(taskRoot, { recursive: true, force: true });
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

/** A text answer (parseResult reads JSON). */
async function getText(
  path: string,
): Promise<{ status: number; headers: Record<string, string>; text: string }> {
  const result = await handler(functionUrlEvent('GET', path), lambdaContext());
  if (typeof result === 'string') throw new Error('expected a structured function URL result');
  return {
    status: result.statusCode ?? 200,
    headers: Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)])),
    text: result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64').toString() : (result.body ?? ''),
  };
}

test('GET / and the app files: the reference app from app/ beside the bundle, under a CSP naming exactly what it connects to', async () => {
  const page = await getText('/');
  expect(page.status).toBe(200);
  expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(page.text).toContain('<script src="/app.js" defer></script>');
  const csp = page.headers['content-security-policy'] ?? '';
  expect(csp).toContain("script-src 'self';");
  // Same origin for the sessions API; the uploads function, the bucket's presigned POSTs, ElevenLabs.
  const connect = csp.split('; ').find((d) => d.startsWith('connect-src '));
  expect(connect?.split(' ').slice(1)).toEqual([
    "'self'",
    'https://uploads.lambda-url.us-east-1.on.aws',
    new URL(storage.emu.s3Endpoint).origin,
    new URL(fake.url).origin,
    `ws://${new URL(fake.url).host}`,
  ]);
  for (const path of ['/app.js', '/app.css', '/worklets/rawAudioProcessor.js']) {
    const file = await getText(path);
    expect([path, file.status, file.headers['content-security-policy']]).toEqual([path, 200, csp]);
    expect(file.text).not.toContain(fake.apiKey);
  }
});
