// Route features through the real server: buffer words written before the upstream answers, and
// a named OpenAI-compatible provider instance with its own key and base URL.
import OpenAI from 'openai';
import { type FakeOpenAIServer, openaiReply, startOpenAIServer } from '../../fakes/openai-server';
import { type RunningChatServer, startChatServer } from '../../helpers/chat-server';

let upstream: FakeOpenAIServer;
let compat: FakeOpenAIServer;
let server: RunningChatServer;

beforeAll(async () => {
  upstream = await startOpenAIServer();
  compat = await startOpenAIServer({ reply: ['from', ' groq'] });
  server = await startChatServer({
    OPENAI_API_KEY: 'sk-openai',
    OPENAI_BASE_URL: `${upstream.url}/v1`,
    GROQ_API_KEY: 'gsk-groq',
    COMPATIBLE_PROVIDERS: JSON.stringify({
      groq: { baseURL: `${compat.url}/v1`, apiKeyEnv: 'GROQ_API_KEY' },
    }),
    MODEL_ROUTES: JSON.stringify({
      voice: { targets: ['openai:gpt-4o'], bufferWords: '... ' },
      'buffer-fail': { targets: ['openai:gpt-4o'], bufferWords: '... ', firstByteTimeoutMs: 200 },
      llama: ['groq:llama-3.3-70b'],
    }),
  });
});
afterAll(async () => {
  await server.close();
  await upstream.close();
  await compat.close();
});

test('buffer words reach the client before the upstream sends anything, then the answer follows', async () => {
  upstream.enqueue(openaiReply({ text: ['Hello', '!'] }, { delayMs: 400 }));
  const t0 = Date.now();
  const res = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'voice', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  const reader = res.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  const firstAt = Date.now() - t0;
  expect(first).toContain('"content":"... "');
  expect(first).toContain('"role":"assistant"');
  // The upstream waits 400 ms before its first event; the buffer words do not.
  expect(firstAt).toBeLessThan(300);
  let rest = '';
  for (let r = await reader.read(); !r.done; r = await reader.read())
    rest += new TextDecoder().decode(r.value);
  expect(rest).toContain('"content":"Hello"');
  expect(rest.endsWith('data: [DONE]\n\n')).toBe(true);
  // Only the first chunk carries the role.
  expect(rest).not.toContain('"role":"assistant"');
});

test('after buffer words, an upstream failure is an error event, not a status', async () => {
  upstream.enqueue({ kind: 'hang' });
  const res = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'buffer-fail', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  expect(res.status).toBe(200);
  const text = await res.text();
  expect(text.startsWith('data: {')).toBe(true);
  expect(text).toContain('"content":"... "');
  expect(text.trim().split('\n\n').at(-1)).toMatch(
    /^data: \{"error":\{"message":"No provider could answer model route \\"buffer-fail\\"/,
  );
});

test('a named compatible provider gets its own key and base URL, max_tokens, and no user field', async () => {
  const client = new OpenAI({ apiKey: 'unused', baseURL: `${server.url}/v1`, maxRetries: 0 });
  const r = await client.chat.completions.create({
    model: 'llama',
    max_completion_tokens: 64,
    user: 'u1',
    messages: [{ role: 'user', content: 'hi' }],
  });
  expect(r.choices[0]!.message.content).toBe('from groq');
  const req = compat.requests.at(-1)!;
  expect(req.headers.authorization).toBe('Bearer gsk-groq');
  expect(req.body).toMatchObject({ model: 'llama-3.3-70b', max_tokens: 64, stream: true });
  expect(req.body).not.toHaveProperty('user');
  expect(
    upstream.requests.filter((q) => (q.body as { model?: string }).model === 'llama-3.3-70b'),
  ).toHaveLength(0);
});

test('/health without the chat key says only that the server is up', async () => {
  const keyed = await startChatServer({
    OPENAI_API_KEY: 'k',
    OPENAI_BASE_URL: `${upstream.url}/v1`,
    CHAT_API_KEY: 'secret-key',
  });
  try {
    const anonymous = await (await fetch(`${keyed.url}/health`)).json();
    expect(anonymous).toEqual({ status: 'ok', detail: expect.stringContaining('Bearer') });
    const wrong = await (
      await fetch(`${keyed.url}/health`, { headers: { authorization: 'Bearer nope' } })
    ).json();
    expect(wrong).not.toHaveProperty('routes');
    const full = (await (
      await fetch(`${keyed.url}/health`, { headers: { authorization: 'Bearer secret-key' } })
    ).json()) as { routes: { targets: unknown[] }[] };
    expect(full.routes[0]?.targets[0]).toMatchObject({ id: 'openai:*', keyConfigured: true });
    expect(JSON.stringify(full)).not.toContain('secret-key');
  } finally {
    await keyed.close();
  }
});
