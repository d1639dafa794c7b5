// Faults before the first upstream byte: the turn may still go anywhere, so the client must get
// an answer from a healthy target (retried or failed over) or one clear OpenAI error object,
// and the circuit breaker must count exactly the failures that say a target is unhealthy.
import { APIError } from 'openai';
import { type Emulators, startEmulators } from '../../../infra/local/emulators';
import { anthropicError, anthropicOverloaded } from '../../fakes/anthropic-server';
import { openaiChunks, openaiError, openaiReply } from '../../fakes/openai-server';
import { type RunningChatServer, startChatServer } from '../../helpers/chat-server';
import {
  ANTHROPIC_ANSWER,
  breakerHealth,
  CLIENT_DEADLINE_MS,
  chatEnv,
  contentOf,
  FALLBACK,
  FIRST_BYTE_TIMEOUT_MS,
  OPENAI_ANSWER,
  openaiClient,
  openaiErrorOf,
  PRIMARY,
  parseSseStrict,
  type RecordingBreaker,
  rawTurn,
  recordingBreaker,
  stamped,
  startUpstreams,
  streamTurn,
  type Upstreams,
  userTurn,
} from './harness';

const FALLBACK_TEXT = ANTHROPIC_ANSWER.join('');
const PRIMARY_TEXT = OPENAI_ANSWER.join('');
/** Backoff small enough that a 150 ms retry-after is clearly the server's word, not jitter. */
const FALLBACK_SETTINGS = { backoffBaseMs: 20, backoffMaxMs: 40 };

let emu: Emulators;
let up: Upstreams;
let server: RunningChatServer;
let breaker: RecordingBreaker;

beforeAll(async () => {
  emu = await startEmulators({ tables: [], buckets: [] });
});
afterAll(() => emu.close());

beforeEach(async () => {
  up = await startUpstreams();
  breaker = await recordingBreaker(emu, 'first-byte');
  server = await startChatServer(chatEnv(up), { breaker, fallback: FALLBACK_SETTINGS });
});
afterEach(async () => {
  await server.close();
  await up.close();
});

test('primary 500: retried once, then the fallback answers; both failures are counted', async () => {
  up.openai.enqueue(openaiError(500, 'boom'), openaiError(500, 'boom again'));

  const res = await rawTurn(server.url, { ...userTurn('gpt-4o'), stream: true });

  expect(res.ms).toBeLessThan(CLIENT_DEADLINE_MS / 2);
  expect(res.status).toBe(200);
  expect(res.contentType).toMatch(/^text\/event-stream/);
  const frames = parseSseStrict(res.text);
  expect(frames.at(-1)).toEqual({ kind: 'done' });
  expect(contentOf(frames)).toBe(FALLBACK_TEXT);
  expect(up.openai.requests).toHaveLength(2);
  expect(up.anthropic.requests).toHaveLength(1);
  expect(server.turns[0]?.attempts.map((a) => [a.target, a.outcome, a.retry])).toEqual([
    [PRIMARY, 'failed', 0],
    [PRIMARY, 'failed', 1],
    [FALLBACK, 'ok', 0],
  ]);

  await breaker.settled();
  expect(breaker.failuresOf(PRIMARY)).toEqual(['http_5xx', 'http_5xx']);
  expect(await breakerHealth(server.url, 'gpt-4o', PRIMARY)).toMatchObject({
    state: 'closed',
    recentFailures: 2,
    lastErrorClass: 'http_5xx',
  });
  expect(await breakerHealth(server.url, 'gpt-4o', FALLBACK)).toMatchObject({
    state: 'closed',
    recentFailures: 0,
  });
});

test('primary 500 on a non-streaming turn: the fallback answer comes back as one chat.completion', async () => {
  up.openai.enqueue(openaiError(500, 'boom'), openaiError(500, 'boom again'));

  const started = performance.now();
  const completion = await openaiClient(server.url).chat.completions.create(userTurn('gpt-4o'), {
    signal: AbortSignal.timeout(CLIENT_DEADLINE_MS),
  });

  expect(performance.now() - started).toBeLessThan(CLIENT_DEADLINE_MS / 2);
  expect(completion.choices[0]?.message.content).toBe(FALLBACK_TEXT);
  expect(up.openai.requests).toHaveLength(2);
  expect(up.anthropic.requests).toHaveLength(1);
});

test('429 with retry-after-ms: 150: the same target answers after at least 150 ms; not a breaker failure', async () => {
  const arrivals: number[] = [];
  up.openai.enqueue(
    stamped(arrivals, openaiError(429, 'slow down', { headers: { 'retry-after-ms': '150' } })),
    stamped(arrivals, openaiReply({ text: OPENAI_ANSWER })),
  );

  const turn = await streamTurn(openaiClient(server.url), 'gpt-4o');

  expect(turn.error).toBeUndefined();
  expect(turn.text).toBe(PRIMARY_TEXT);
  expect(turn.chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  expect(arrivals).toHaveLength(2);
  const gap = arrivals[1]! - arrivals[0]!;
  expect(gap).toBeGreaterThanOrEqual(150);
  expect(gap).toBeLessThan(150 + 250);
  expect(up.anthropic.requests).toHaveLength(0);

  await breaker.settled();
  expect(breaker.failuresOf(PRIMARY)).toEqual([]);
  expect(breaker.successesOf(PRIMARY)).toBe(1);
  expect(await breakerHealth(server.url, 'gpt-4o', PRIMARY)).toMatchObject({
    state: 'closed',
    recentFailures: 0,
  });
});

test('529 overloaded from Anthropic as the primary: retried, then OpenAI answers', async () => {
  up.anthropic.enqueue(anthropicOverloaded(), anthropicOverloaded());

  const turn = await streamTurn(openaiClient(server.url), 'claude');

  expect(turn.error).toBeUndefined();
  expect(turn.text).toBe(PRIMARY_TEXT);
  expect(up.anthropic.requests).toHaveLength(2);
  expect(up.openai.requests).toHaveLength(1);
  await breaker.settled();
  expect(breaker.failuresOf(FALLBACK)).toEqual(['overloaded', 'overloaded']);
  expect(await breakerHealth(server.url, 'claude', FALLBACK)).toMatchObject({
    state: 'closed',
    recentFailures: 2,
    lastErrorClass: 'overloaded',
  });
});

describe('a hang before the first byte fails over after the first-byte timeout', () => {
  test.each([
    ['no response at all', { kind: 'hang' } as const],
    // Headers and the role chunk arrive, then silence: still no token for the client.
    [
      'headers and a role chunk, then silence',
      { kind: 'hangAfter', events: openaiChunks({}).slice(0, 1) } as const,
    ],
  ])('%s', async (_label, behaviour) => {
    up.openai.enqueue(behaviour);

    const turn = await streamTurn(openaiClient(server.url), 'gpt-4o');

    expect(turn.error).toBeUndefined();
    expect(turn.text).toBe(FALLBACK_TEXT);
    expect(turn.ms).toBeGreaterThanOrEqual(FIRST_BYTE_TIMEOUT_MS);
    expect(turn.ms).toBeLessThan(FIRST_BYTE_TIMEOUT_MS + 700);
    // A timeout is not retried on the same target: the next one is tried at once.
    expect(up.openai.requests).toHaveLength(1);
    expect(up.anthropic.requests).toHaveLength(1);
    await breaker.settled();
    expect(breaker.failuresOf(PRIMARY)).toEqual(['first_byte_timeout']);
    expect(await breakerHealth(server.url, 'gpt-4o', PRIMARY)).toMatchObject({
      recentFailures: 1,
      lastErrorClass: 'first_byte_timeout',
    });
  });
});

describe('garbage before the first byte fails over', () => {
  // The SDKs' own log lines go to our structured logger, never to console.error (which on
  // Lambda would be an unstructured line in the middle of JSON logs).
  let consoleError: jest.SpyInstance;
  beforeEach(() => {
    consoleError = jest.spyOn(console, 'error').mockImplementation(() => {});
  });
  afterEach(() => {
    expect(consoleError).not.toHaveBeenCalled();
    jest.restoreAllMocks();
  });

  test.each([
    // Unparseable JSON in a data line: the SDK throws, read as a broken connection.
    ['malformed SSE', { kind: 'malformed' } as const, 'connection'],
    // No data lines at all: the SDK sees a stream that ends without a single chunk.
    ['an HTML page with status 200', { kind: 'wrongContentType' } as const, 'empty_response'],
  ])('%s', async (_label, behaviour, errorClass) => {
    up.openai.setDefault(behaviour);

    const turn = await streamTurn(openaiClient(server.url), 'gpt-4o');

    expect(turn.error).toBeUndefined();
    expect(turn.text).toBe(FALLBACK_TEXT);
    expect(turn.chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(up.openai.requests).toHaveLength(2);
    expect(up.anthropic.requests).toHaveLength(1);
    expect(server.turns[0]?.attempts.map((a) => [a.target, a.outcome, a.errorClass])).toEqual([
      [PRIMARY, 'failed', errorClass],
      [PRIMARY, 'failed', errorClass],
      [FALLBACK, 'ok', undefined],
    ]);
    await breaker.settled();
    expect(breaker.failuresOf(PRIMARY)).toEqual([errorClass, errorClass]);
    expect(await breakerHealth(server.url, 'gpt-4o', PRIMARY)).toMatchObject({
      recentFailures: 2,
      lastErrorClass: errorClass,
    });
  });

  test.each([
    ['malformed SSE', { kind: 'malformed' } as const],
    ['an HTML page with status 200', { kind: 'wrongContentType' } as const],
  ])(
    '%s with nothing to fail over to: a 502 error object, and the server keeps serving',
    async (_l, behaviour) => {
      up.openai.setDefault(behaviour);

      const res = await rawTurn(server.url, { ...userTurn('solo'), stream: true });

      expect(res.ms).toBeLessThan(CLIENT_DEADLINE_MS / 2);
      expect(res.status).toBe(502);
      expect(res.contentType).toMatch(/^application\/json/);
      const error = openaiErrorOf(JSON.parse(res.text));
      expect(error.type).toBe('upstream_error');
      expect(error.message).toContain(PRIMARY);

      up.openai.replyWith(OPENAI_ANSWER);
      const next = await streamTurn(openaiClient(server.url), 'solo');
      expect(next.error).toBeUndefined();
      expect(next.text).toBe(PRIMARY_TEXT);
    },
  );
});

test('every target failing: one 502 naming each target and what happened to it', async () => {
  up.openai.setDefault(openaiError(500, 'primary is down'));
  up.anthropic.setDefault(anthropicError(500, 'api_error', 'fallback is down'));

  const client = openaiClient(server.url);
  const started = performance.now();
  const thrown = await client.chat.completions
    .create({ ...userTurn('gpt-4o'), stream: true }, { signal: AbortSignal.timeout(CLIENT_DEADLINE_MS) })
    .then(
      () => undefined,
      (err: unknown) => err,
    );

  expect(performance.now() - started).toBeLessThan(CLIENT_DEADLINE_MS / 2);
  expect(thrown).toBeInstanceOf(APIError);
  const apiError = thrown as APIError;
  expect(apiError.status).toBe(502);
  expect(apiError.code).toBe('all_targets_failed');
  expect(apiError.type).toBe('upstream_error');
  expect(apiError.message).toMatch(/openai:gpt-4o: openai failed with HTTP 500: primary is down/);
  expect(apiError.message).toMatch(/anthropic:claude-x: anthropic failed with HTTP 500/);
  expect(up.openai.requests).toHaveLength(2);
  expect(up.anthropic.requests).toHaveLength(2);

  const res = await rawTurn(server.url, { ...userTurn('gpt-4o'), stream: true });
  expect(res.status).toBe(502);
  expect(openaiErrorOf(JSON.parse(res.text)).code).toBe('all_targets_failed');

  await breaker.settled();
  expect(breaker.failuresOf(PRIMARY)).toHaveLength(4);
  expect(breaker.failuresOf(FALLBACK)).toHaveLength(4);
  expect(await breakerHealth(server.url, 'gpt-4o', PRIMARY)).toMatchObject({ recentFailures: 4 });
  expect(await breakerHealth(server.url, 'gpt-4o', FALLBACK)).toMatchObject({ recentFailures: 4 });
});

test('every breaker open: one 503 naming each target as open, and no upstream is called', async () => {
  for (const target of [PRIMARY, FALLBACK]) {
    for (let i = 0; i < breaker.inner.settings.failureThreshold; i++) {
      await breaker.inner.recordFailure(target, await breaker.inner.admit(target), 'http_5xx');
    }
  }

  const res = await rawTurn(server.url, { ...userTurn('gpt-4o'), stream: true });

  expect(res.ms).toBeLessThan(CLIENT_DEADLINE_MS / 2);
  expect(res.status).toBe(503);
  const error = openaiErrorOf(JSON.parse(res.text));
  expect(error).toMatchObject({ type: 'service_unavailable', code: 'all_targets_unavailable' });
  expect(error.message).toMatch(/openai:gpt-4o: circuit open until \d{4}-/);
  expect(error.message).toMatch(/anthropic:claude-x: circuit open until \d{4}-/);
  expect(up.openai.requests).toHaveLength(0);
  expect(up.anthropic.requests).toHaveLength(0);
  expect(await breakerHealth(server.url, 'gpt-4o', PRIMARY)).toMatchObject({ state: 'open' });
  expect(await breakerHealth(server.url, 'gpt-4o', FALLBACK)).toMatchObject({ state: 'open' });
});
