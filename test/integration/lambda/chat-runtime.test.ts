// The chat function as deployed: its bundle run by AWS's runtime interface client behind a
// RESPONSE_STREAM function URL, with the template's handler, environment and secret read, and
// the official `openai` client on the other side. Fakes stand in for the upstreams.
import OpenAI, { APIError } from 'openai';
import { type FakeOpenAIServer, openaiChunks, startOpenAIServer } from '../../fakes/openai-server';
import { type SilentServer, startSilentServer } from '../../helpers/silent-server';
import { contentOf, expectErrorEnding, parseSseStrict } from '../resilience/harness';
import { type Bundles, buildBundles, type RunningLambdaApp, startRuntimeApp } from './harness';

const CHAT_KEY = 'lambda-chat-key';
/**
 * Short, so the deadline test is quick, yet long enough that the adapter's deadline (1.5 s before
 * the limit) leaves a cold turn on a loaded machine its time; every other turn here ends within a
 * few hundred ms.
 */
const TIMEOUT_SECONDS = 4;

let bundles: Bundles;
let upstream: FakeOpenAIServer;
let silent: SilentServer;
let run: RunningLambdaApp;

beforeAll(async () => {
  [bundles, upstream, silent] = await Promise.all([
    buildBundles(['chat']),
    startOpenAIServer({ reply: ['Streamed', ' from', ' Lambda'] }),
    startSilentServer(),
  ]);
  run = await startRuntimeApp(bundles.codeRoot, {
    llmSecret: { CHAT_API_KEY: CHAT_KEY, OPENAI_API_KEY: 'sk-upstream' },
    overrides: {
      chat: {
        OPENAI_BASE_URL: `${upstream.url}/v1`,
        COMPATIBLE_PROVIDERS: JSON.stringify({ hang: { baseURL: `${silent.url}/v1` } }),
        MODEL_ROUTES: JSON.stringify({ slow: ['hang:*'], '*': ['openai:*'] }),
      },
    },
    adjust: { chat: { timeoutSeconds: TIMEOUT_SECONDS } },
  });
}, 60_000);

afterAll(async () => {
  await run?.app.close();
  await Promise.all([upstream?.close(), silent?.close()]);
  bundles?.remove();
});

const client = () =>
  new OpenAI({ apiKey: CHAT_KEY, baseURL: `${run.app.url}/v1`, maxRetries: 0, timeout: 8000 });

/** A turn shaped like ElevenLabs' (max_tokens -1, user_id, extra body), streamed. */
const voiceTurn = (content = 'What do you see?') => ({
  model: 'gpt-4o',
  stream: true as const,
  max_tokens: -1,
  user_id: 'caller-1',
  elevenlabs_extra_body: { conversation: 'c1' },
  messages: [
    { role: 'system' as const, content: 'You can see.' },
    { role: 'user' as const, content },
  ],
});

async function streamed(): Promise<string> {
  const stream = await client().chat.completions.create(
    voiceTurn() as unknown as OpenAI.ChatCompletionCreateParamsStreaming,
  );
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  return text;
}

async function raw(
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${run.app.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${CHAT_KEY}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

test('a streamed voice turn through the official client: cold start once, then warm turns in the same process', async () => {
  expect(await streamed()).toBe('Streamed from Lambda');
  expect(await streamed()).toBe('Streamed from Lambda');
  const buffered = await client().chat.completions.create({
    model: 'gpt-4o',
    messages: [{ role: 'user', content: 'hi' }],
  });
  expect(buffered.choices[0]?.message.content).toBe('Streamed from Lambda');

  // One execution environment, initialised once (the module's cold-start code ran one time),
  // served all three invocations.
  expect(run.inits('chat')).toBe(1);
  expect(run.app.urls.chat.environments).toHaveLength(1);
  expect(run.app.urls.chat.environments[0]!.invocations).toBe(3);
  // The template's environment reached the function, and its logs say so.
  const turns = run.jsonLogs('chat').filter((l) => l.msg === 'turn');
  expect(turns).toHaveLength(3);
  expect(turns[0]).toMatchObject({ stage: 'dev', provider: 'openai', status: 200 });
  const emf = run.jsonLogs('chat').find((l) => l._aws);
  expect(emf).toMatchObject({ Stage: 'dev', Provider: 'openai', Turns: 1 });
  expect(run.logs.chat.join('\n')).not.toMatch(new RegExp(`${CHAT_KEY}|sk-upstream|Bearer`));
  // The key came from the Secrets Manager stand-in, read once at cold start.
  expect([...run.app.secrets.reads.values()]).toEqual([1]);
  // ...during the init (the bundle awaits the service at top level), not by the first turn:
  // Lambda runs init at full CPU, before a caller waits.
  const initDone = run.app.events.find((e) => e.fn === 'chat' && e.type === 'init-done');
  const [secretReadAt] = [...run.app.secrets.firstReadAt.values()];
  expect(secretReadAt).toBeLessThan(initDone!.at);
});

test('the stream leaves the function as SSE with its status and headers in the prelude, relayed as it comes', async () => {
  upstream.enqueue({
    kind: 'sse',
    delayMs: 30,
    events: [...openaiChunks({ text: ['Streamed', ' from', ' Lambda'] }), '[DONE]'],
  });
  const res = await fetch(`${run.app.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${CHAT_KEY}` },
    body: JSON.stringify(voiceTurn()),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = res.body!.getReader();
  let reads = 0;
  let text = '';
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    reads++;
    text += Buffer.from(r.value).toString('utf8');
  }
  const frames = parseSseStrict(text);
  expect(contentOf(frames)).toBe('Streamed from Lambda');
  expect(frames.at(-1)).toEqual({ kind: 'done' });
  expect(reads).toBeGreaterThan(1);
});

test('an upstream failing mid-stream: the tokens sent, one SSE error event, then a clean end', async () => {
  upstream.enqueue({ kind: 'cut', events: openaiChunks({ text: ['Hel', 'lo'] }).slice(0, 3) });
  const res = await raw(voiceTurn());
  expect(res.status).toBe(200);
  const frames = parseSseStrict(res.text);
  expect(contentOf(frames)).toBe('Hello');
  expect(expectErrorEnding(frames).type).toBeTruthy();
});

test('a wrong key is a 401 OpenAI error object, through the stream prelude', async () => {
  const bad = new OpenAI({ apiKey: 'nope', baseURL: `${run.app.url}/v1`, maxRetries: 0 });
  const err = await bad.chat.completions
    .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(APIError);
  expect((err as APIError).status).toBe(401);
  expect((err as APIError).error).toMatchObject({ type: 'authentication_error' });
});

test('an upstream 5xx on every attempt is a 5xx OpenAI error object', async () => {
  upstream.setDefault({
    kind: 'json',
    status: 500,
    body: { error: { message: 'boom', type: 'server_error', param: null, code: null } },
  });
  const res = await raw({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).finally(() =>
    upstream.replyWith(['Streamed', ' from', ' Lambda']),
  );
  expect(res.status).toBeGreaterThanOrEqual(500);
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  expect(JSON.parse(res.text).error).toMatchObject({ message: expect.stringContaining('openai') });
});

test('a request over 6 MB is refused by the URL with a 413, without invoking the function', async () => {
  const invocations = run.app.events.filter((e) => e.type === 'invoke').length;
  const big = JSON.stringify({
    model: 'gpt-4o',
    messages: [{ role: 'user', content: 'x'.repeat(6.5 * 1024 * 1024) }],
  });
  const res = await raw(big);
  expect(res.status).toBe(413);
  expect(res.headers.get('x-amzn-errortype')).toBe('RequestTooLargeException');
  expect(JSON.parse(res.text).Message).toContain('6291456 bytes');
  expect(run.app.events.filter((e) => e.type === 'invoke').length).toBe(invocations);
});

test('the invocation ends with the response: the runtime asks for the next one long before the timeout', async () => {
  const before = run.app.events.length;
  expect(await streamed()).toBe('Streamed from Lambda');
  const env = run.lastEnv('chat')!;
  // The runtime's next GET /invocation/next arrives once the handler let go of the invocation.
  const deadline = Date.now() + TIMEOUT_SECONDS * 1000;
  while (Date.now() < deadline) {
    const after = run.app.events.slice(before).filter((e) => e.env === env.id);
    const end = after.find((e) => e.type === 'response-end');
    const next = end && after.find((e) => e.type === 'next' && e.at >= end.at);
    if (end && next) {
      // Well inside the function timeout: nothing (a timer, a socket, a pending write) held it.
      expect(next.at - end.at).toBeLessThan((TIMEOUT_SECONDS * 1000) / 2);
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the runtime never asked for the next invocation before the timeout');
});

test('a turn about to outlive the function timeout ends cleanly before it, and the environment stays warm', async () => {
  const inits = run.inits('chat');
  const started = Date.now();
  const res = await raw({ model: 'slow', stream: true, messages: [{ role: 'user', content: 'hi' }] });
  // The adapter stops the turn DEADLINE_MARGIN_MS before the time limit: a precise 504 error
  // object instead of the URL's bare 502 after "Task timed out" (tested in host.test.ts).
  expect(res.status).toBe(504);
  expect(JSON.parse(res.text).error).toMatchObject({ type: 'timeout_error', code: 'invocation_deadline' });
  expect(Date.now() - started).toBeLessThan(TIMEOUT_SECONDS * 1000);
  expect(run.logs.chat.join('\n')).not.toContain('Task timed out');
  expect(await streamed()).toBe('Streamed from Lambda');
  expect(run.inits('chat')).toBe(inits);
});

// Regression: when the runtime's connection to the Runtime API broke mid-stream, the runtime
// client rejected a promise nobody awaited yet ("socket hang up"), Node ended the process, and
// the next turn paid a cold start (on AWS: Runtime.ExitError and a new environment).
test('the runtime connection cut mid-stream: the upstream stops, the process lives on and serves the next turn warm', async () => {
  upstream.enqueue({
    kind: 'sse',
    delayMs: 60,
    events: [...openaiChunks({ text: ['One', ' two', ' three', ' four', ' five', ' six'] }), '[DONE]'],
  });
  const res = await fetch(`${run.app.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${CHAT_KEY}` },
    body: JSON.stringify(voiceTurn()),
  });
  const reader = res.body!.getReader();
  await reader.read();
  const inits = run.inits('chat');
  const env = run.lastEnv('chat')!;
  expect(env.cutResponseConnection()).toBe(true);
  await expect(
    (async () => {
      for (;;) if ((await reader.read()).done) break;
    })(),
  ).rejects.toThrow();
  expect(await streamed()).toBe('Streamed from Lambda');
  expect(await streamed()).toBe('Streamed from Lambda');
  expect(run.inits('chat')).toBe(inits);
  expect(run.lastEnv('chat')).toBe(env);
  expect(run.app.events.some((e) => e.env === env.id && e.type === 'exit')).toBe(false);
  // The cut turn was recorded as ended by its caller (the stream's close stopped the upstream).
  const cut = run
    .jsonLogs('chat')
    .filter((l) => l.msg === 'turn')
    .at(-3);
  expect(cut).toMatchObject({ status: 499 });
});

test('the Responses door on Lambda: responses.create streamed and not, POST /responses too', async () => {
  const stream = await client().responses.create({
    model: 'gpt-4o',
    stream: true,
    max_output_tokens: -1,
    instructions: 'You can see.',
    input: [{ role: 'user', content: 'What do you see?' }],
  });
  const types: string[] = [];
  let text = '';
  for await (const e of stream) {
    types.push(e.type);
    if (e.type === 'response.output_text.delta') text += e.delta;
  }
  expect(text).toBe('Streamed from Lambda');
  expect([types[0], types.at(-1)]).toEqual(['response.created', 'response.completed']);

  const reply = await client().responses.create({ model: 'gpt-4o', input: 'hi' });
  expect(reply.output_text).toBe('Streamed from Lambda');
  const res = await fetch(`${run.app.url}/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${CHAT_KEY}` },
    body: JSON.stringify({ model: 'gpt-4o', input: 'hi', previous_response_id: 'resp_1' }),
  });
  expect(res.status).toBe(400);
  expect(((await res.json()) as { error: { param: string } }).error.param).toBe('previous_response_id');
});
