// The chat Lambda entry's answers to a bad deployment (no chat key, no provider key, bad routes,
// an unreadable secret), each through the real runtime interface client with the template's
// environment and the secret read at cold start, as on AWS. Turns that work are in
// test/integration/lambda/chat-runtime.test.ts.
import { type FakeOpenAIServer, startOpenAIServer } from '../../fakes/openai-server';
import { type Bundles, buildBundles, type RunningLambdaApp, startRuntimeApp } from '../lambda/harness';

let bundles: Bundles;
let upstream: FakeOpenAIServer;

beforeAll(async () => {
  [bundles, upstream] = await Promise.all([buildBundles(['chat']), startOpenAIServer()]);
}, 60_000);
afterAll(async () => {
  await upstream?.close();
  bundles?.remove();
});

interface Answer {
  status: number;
  headers: Headers;
  error: { message: string; type: string; code: string | null };
}

/** Starts the chat function with this secret and these template changes, and sends `turns` turns. */
async function deployedChat(
  llmSecret: Record<string, string>,
  overrides: Record<string, string>,
  turns = 1,
): Promise<{ answers: Answer[]; run: RunningLambdaApp }> {
  const run = await startRuntimeApp(bundles.codeRoot, {
    llmSecret,
    overrides: { chat: { OPENAI_BASE_URL: `${upstream.url}/v1`, ...overrides } },
  });
  try {
    const answers: Answer[] = [];
    for (let i = 0; i < turns; i++) {
      const res = await fetch(`${run.app.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer k1' },
        body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
      });
      answers.push({
        status: res.status,
        headers: res.headers,
        error: ((await res.json()) as { error: Answer['error'] }).error,
      });
    }
    return { answers, run };
  } finally {
    await run.app.close();
  }
}

test('a deployed function without CHAT_API_KEY in its secret refuses to serve, with a clear 500', async () => {
  const { answers } = await deployedChat({ OPENAI_API_KEY: 'sk' }, {});
  expect(answers[0]!.status).toBe(500);
  expect(answers[0]!.error).toMatchObject({
    code: 'server_misconfigured',
    message: expect.stringContaining('CHAT_API_KEY'),
  });
});

test('a deployed function never falls back to the echo provider silently', async () => {
  const { answers, run } = await deployedChat({ CHAT_API_KEY: 'k1' }, {});
  expect(answers[0]!.status).toBe(503);
  expect(answers[0]!.error.message).toContain('echo:echo: not configured');
  expect(run.jsonLogs('chat').some((l) => String(l.msg).includes('no provider key configured'))).toBe(true);
});

test('a bad MODEL_ROUTES answers every request with a precise 500 instead of crashing', async () => {
  const { answers, run } = await deployedChat(
    { CHAT_API_KEY: 'k1' },
    { MODEL_ROUTES: '{"x": ["nobody:y"]}' },
    2,
  );
  for (const a of answers) {
    expect(a.status).toBe(500);
    expect(a.error.message).toContain('unknown provider "nobody"');
  }
  // Both answered by the one environment: the bad configuration did not kill the process.
  expect(run.inits('chat')).toBe(1);
});

test('when the secret cannot be read at cold start, the turn gets a 503 error object and the next one retries', async () => {
  const { answers, run } = await deployedChat(
    { CHAT_API_KEY: 'k1', OPENAI_API_KEY: 'sk' },
    // The real Secrets Manager client, pointed at a closed port: the read fails fast.
    { AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:1', AWS_MAX_ATTEMPTS: '1' },
    2,
  );
  for (const a of answers) {
    expect(a.status).toBe(503);
    expect(a.headers.get('retry-after')).toBe('1');
    expect(a.error).toMatchObject({ type: 'service_unavailable', code: 'configuration_unavailable' });
  }
  expect(run.jsonLogs('chat').filter((l) => l.msg === 'could not load the LLM secret')).toHaveLength(2);
  expect(run.inits('chat')).toBe(1);
});
