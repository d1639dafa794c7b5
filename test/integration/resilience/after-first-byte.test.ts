// Faults after the first byte reached the client: the provider is fixed for the turn, so the
// client must get the tokens already sent, one SSE error event, then the end of the stream;
// never a hang, never a made-up `[DONE]`, never a second provider's words spliced in.
import { APIError } from 'openai';
import { type Emulators, startEmulators } from '../../../infra/local/emulators';
import { anthropicErrorEvent, anthropicEvents } from '../../fakes/anthropic-server';
import { openaiChunks } from '../../fakes/openai-server';
import { type RunningChatServer, startChatServer } from '../../helpers/chat-server';
import {
  breakerHealth,
  CLIENT_DEADLINE_MS,
  chatEnv,
  contentOf,
  expectErrorEnding,
  FALLBACK,
  openaiClient,
  openaiErrorOf,
  PRIMARY,
  parseSseStrict,
  type RecordingBreaker,
  rawTurn,
  recordingBreaker,
  startUpstreams,
  streamTurn,
  type Upstreams,
  userTurn,
} from './harness';

/** Silence mid-stream that ends a turn; short, so the suite stays fast. */
const STREAM_IDLE_TIMEOUT_MS = 250;

/** OpenAI frames up to and including the tokens "Hel", "lo": role chunk, then two content chunks. */
const OPENAI_PARTIAL = openaiChunks({ text: ['Hel', 'lo'] }).slice(0, 3);
/** Anthropic frames up to and including the text deltas "Hel", "lo" (message_start, ping, block start, 2 deltas). */
const ANTHROPIC_PARTIAL = anthropicEvents({ blocks: [{ type: 'text', text: ['Hel', 'lo'] }] }).slice(0, 5);

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
  breaker = await recordingBreaker(emu, 'mid-stream');
  server = await startChatServer(chatEnv(up), { breaker, streamIdleTimeoutMs: STREAM_IDLE_TIMEOUT_MS });
});
afterEach(async () => {
  await server.close();
  await up.close();
});

// Regression: the OpenAI SDK ends an aborted stream quietly, so an OpenAI upstream that went
// silent mid-stream used to reach the client as a complete answer (finish_reason "stop", then
// [DONE]) and count as a breaker success.
describe('a hang mid-stream: the tokens sent, an error event after the idle timeout, the end', () => {
  test.each([
    ['OpenAI primary', 'gpt-4o', PRIMARY, 'openai' as const],
    ['Anthropic primary', 'claude', FALLBACK, 'anthropic' as const],
  ])('%s', async (_label, model, target, hanging) => {
    const other = hanging === 'openai' ? 'anthropic' : 'openai';
    up[hanging].enqueue({
      kind: 'hangAfter',
      events: hanging === 'openai' ? OPENAI_PARTIAL : ANTHROPIC_PARTIAL,
    });

    const res = await rawTurn(server.url, { ...userTurn(model), stream: true });

    expect(res.status).toBe(200);
    expect(res.ms).toBeGreaterThanOrEqual(STREAM_IDLE_TIMEOUT_MS);
    expect(res.ms).toBeLessThan(STREAM_IDLE_TIMEOUT_MS + 700);
    const frames = parseSseStrict(res.text);
    expect(contentOf(frames)).toBe('Hello');
    const error = expectErrorEnding(frames);
    expect(error).toMatchObject({ type: 'timeout_error', code: 'upstream_stream_timeout' });
    expect(error.message).toContain(target);
    // No switch of provider once a token has gone out.
    expect(up[hanging].requests).toHaveLength(1);
    expect(up[other].requests).toHaveLength(0);

    await breaker.settled();
    expect(breaker.failuresOf(target)).toEqual(['stream_idle_timeout']);
    expect(await breakerHealth(server.url, model, target)).toMatchObject({
      state: 'closed',
      recentFailures: 1,
      lastErrorClass: 'stream_idle_timeout',
    });
  });

  test('the official client gets the tokens, then an APIError, and is not left waiting', async () => {
    up.openai.enqueue({ kind: 'hangAfter', events: OPENAI_PARTIAL });

    const turn = await streamTurn(openaiClient(server.url), 'gpt-4o');

    expect(turn.text).toBe('Hello');
    expect(turn.error).toBeInstanceOf(APIError);
    expect((turn.error as APIError).code).toBe('upstream_stream_timeout');
    expect(turn.ms).toBeLessThan(STREAM_IDLE_TIMEOUT_MS + 700);
    expect(up.anthropic.requests).toHaveLength(0);
  });
});

describe('a connection reset mid-stream: the tokens sent, an error event at once, the end', () => {
  test.each([
    ['OpenAI primary', 'gpt-4o', PRIMARY, 'openai' as const],
    ['Anthropic primary', 'claude', FALLBACK, 'anthropic' as const],
  ])('%s', async (_label, model, target, cut) => {
    const other = cut === 'openai' ? 'anthropic' : 'openai';
    up[cut].enqueue({ kind: 'cut', events: cut === 'openai' ? OPENAI_PARTIAL : ANTHROPIC_PARTIAL });

    const res = await rawTurn(server.url, { ...userTurn(model), stream: true });

    expect(res.status).toBe(200);
    // The reset is noticed at once, not after an idle timeout.
    expect(res.ms).toBeLessThan(STREAM_IDLE_TIMEOUT_MS);
    const frames = parseSseStrict(res.text);
    expect(contentOf(frames)).toBe('Hello');
    const error = expectErrorEnding(frames);
    expect(error.type).toBe('upstream_error');
    expect(up[cut].requests).toHaveLength(1);
    expect(up[other].requests).toHaveLength(0);

    await breaker.settled();
    expect(breaker.failuresOf(target)).toHaveLength(1);
    expect((await breakerHealth(server.url, model, target)).recentFailures).toBe(1);
  });
});

test('an Anthropic error event mid-stream (overloaded): an error event, no failover', async () => {
  up.anthropic.enqueue({
    kind: 'sse',
    events: [...ANTHROPIC_PARTIAL, anthropicErrorEvent('overloaded_error', 'Overloaded')],
  });

  const res = await rawTurn(server.url, { ...userTurn('claude'), stream: true });

  expect(res.ms).toBeLessThan(CLIENT_DEADLINE_MS / 2);
  const frames = parseSseStrict(res.text);
  expect(contentOf(frames)).toBe('Hello');
  expect(expectErrorEnding(frames).message).toMatch(/overloaded/i);
  expect(up.openai.requests).toHaveLength(0);
  await breaker.settled();
  expect(breaker.failuresOf(FALLBACK)).toEqual(['overloaded']);
});

// Regression: an OpenAI stream closed cleanly before its finish_reason (a proxy giving up, a
// server restart) used to be completed with a made-up finish_reason "stop" and [DONE].
test('an OpenAI stream that closes before its finish_reason is an error, not a complete answer', async () => {
  // Every byte of a normal answer but the finish chunk and [DONE], then a clean close.
  up.openai.enqueue({ kind: 'sse', events: OPENAI_PARTIAL });

  const res = await rawTurn(server.url, { ...userTurn('gpt-4o'), stream: true });

  expect(res.ms).toBeLessThan(CLIENT_DEADLINE_MS / 2);
  const frames = parseSseStrict(res.text);
  expect(contentOf(frames)).toBe('Hello');
  expect(expectErrorEnding(frames).code).toBe('upstream_truncated');
  expect(up.anthropic.requests).toHaveLength(0);
  await breaker.settled();
  expect(breaker.failuresOf(PRIMARY)).toEqual(['truncated']);
});

test('a non-streaming turn whose upstream hangs mid-answer: a 504 error object, not half an answer', async () => {
  up.openai.enqueue({ kind: 'hangAfter', events: OPENAI_PARTIAL });

  const res = await rawTurn(server.url, userTurn('gpt-4o'));

  expect(res.ms).toBeGreaterThanOrEqual(STREAM_IDLE_TIMEOUT_MS);
  expect(res.ms).toBeLessThan(STREAM_IDLE_TIMEOUT_MS + 700);
  expect(res.status).toBe(504);
  expect(openaiErrorOf(JSON.parse(res.text))).toMatchObject({
    type: 'timeout_error',
    code: 'upstream_stream_timeout',
  });
  expect(up.anthropic.requests).toHaveLength(0);
});
