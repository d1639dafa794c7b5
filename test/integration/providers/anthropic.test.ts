// The Anthropic provider end to end: the real SDK against the fake Anthropic server, from the
// request body on the wire to the StreamEvents and UpstreamErrors our routing layer sees.

import type { ProviderConfig } from '../../../shared/config';
import { UpstreamError, ValidationError } from '../../../shared/errors';
import { type ChatRequest, chatRequestSchema } from '../../../shared/openai/schema';
import { createAnthropicProvider } from '../../../shared/providers/anthropic';
import { createHttpTransport, type FetchLike } from '../../../shared/providers/http-transport';
import type { Provider, StreamEvent, TargetCall } from '../../../shared/providers/types';
import { countsAsFailure } from '../../../shared/providers/upstream-error';
import {
  anthropicError,
  anthropicErrorEvent,
  anthropicEvents,
  anthropicOverloaded,
  anthropicReply,
  type FakeAnthropicServer,
  startAnthropicServer,
} from '../../fakes/anthropic-server';

// Every case runs twice: through the runtime's fetch and through the node:http transport the
// deployed function gives the SDKs (shared/providers/http-transport.ts). Both must classify
// every failure alike.
const transports: [string, { fetch?: FetchLike }][] = [
  ['runtime fetch', {}],
  ['node:http transport', { fetch: createHttpTransport() }],
];

describe.each(transports)('through %s', (_name, transport) => {
  let server: FakeAnthropicServer;
  let provider: Provider;

  function config(overrides: Partial<ProviderConfig> = {}): ProviderConfig {
    return {
      name: 'anthropic',
      kind: 'anthropic',
      apiKey: 'sk-ant-test',
      baseURL: server.url,
      imageDelivery: 'inline',
      ...overrides,
    };
  }

  beforeEach(async () => {
    server = await startAnthropicServer();
    provider = createAnthropicProvider(config(), { defaultMaxTokens: 512, timeoutMs: 5000, ...transport });
  });
  afterEach(() => server.close());

  const REQUEST: ChatRequest = chatRequestSchema.parse({
    model: 'custom-llm',
    stream: true,
    messages: [
      { role: 'system', content: 'You see through the camera.' },
      { role: 'assistant', content: 'Hi there!' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        ],
      },
    ],
    tools: [{ type: 'function', function: { name: 'end_call', description: 'Ends the call' } }],
  });

  function call(overrides: Partial<TargetCall> = {}): TargetCall {
    return {
      model: 'claude-sonnet-4-6',
      request: REQUEST,
      signal: new AbortController().signal,
      ...overrides,
    };
  }

  async function collectUntilError(
    iterable: AsyncIterable<StreamEvent>,
  ): Promise<{ events: StreamEvent[]; error: unknown }> {
    const events: StreamEvent[] = [];
    try {
      for await (const e of iterable) events.push(e);
    } catch (error) {
      return { events, error };
    }
    return { events, error: undefined };
  }

  test('streams text and ends with finish and usage', async () => {
    server.replyWith({
      blocks: [{ type: 'text', text: ['A red', ' bicycle.'] }],
      usage: { input_tokens: 100, output_tokens: 6, cache_read_input_tokens: 50 },
    });
    const { events, error } = await collectUntilError(provider.stream(call()));
    expect(error).toBeUndefined();
    expect(events).toEqual([
      { type: 'text', text: 'A red' },
      { type: 'text', text: ' bicycle.' },
      { type: 'finish', reason: 'stop' },
      {
        type: 'usage',
        usage: { prompt_tokens: 150, completion_tokens: 6, total_tokens: 156, cached_tokens: 50 },
      },
    ]);
  });

  test('the request on the wire has the expected shape', async () => {
    await collectUntilError(provider.stream(call({ overrides: { maxTokens: 300 } })));
    expect(server.requests).toHaveLength(1);
    const received = server.requests[0]!;
    expect(received.method).toBe('POST');
    expect(received.path).toBe('/v1/messages');
    // SDK 1.x sends the API key as a bearer token (0.x used x-api-key).
    expect(received.headers.authorization).toBe('Bearer sk-ant-test');
    expect(received.headers['anthropic-version']).toBeDefined();
    // Our routing layer owns retries: the SDK must be making its first and only attempt.
    expect(received.headers['x-stainless-retry-count']).toBe('0');
    expect(received.body).toEqual({
      model: 'claude-sonnet-4-6',
      max_tokens: 300,
      stream: true,
      system: [{ type: 'text', text: 'You see through the camera.', cache_control: { type: 'ephemeral' } }],
      tools: [
        { name: 'end_call', description: 'Ends the call', input_schema: { type: 'object', properties: {} } },
      ],
      messages: [
        { role: 'user', content: [{ type: 'text', text: '(conversation started)' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Hi there!' }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            {
              type: 'image',
              source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' },
              cache_control: { type: 'ephemeral' },
            },
          ],
        },
      ],
    });
  });

  test('without a client or route limit, max_tokens is the configured default', async () => {
    await collectUntilError(provider.stream(call()));
    expect(server.requests[0]?.body).toMatchObject({ max_tokens: 512 });
  });

  test('streams a tool call whose arguments arrive split across packets', async () => {
    server.enqueue(
      anthropicReply(
        {
          blocks: [
            { type: 'text', text: ['Bye!'] },
            {
              type: 'tool_use',
              id: 'toolu_1',
              name: 'end_call',
              input: ['', '{"reason":', ' "user said bye"}'],
            },
            { type: 'tool_use', id: 'toolu_2', name: 'skip_turn', input: [] },
          ],
        },
        { splitEvery: 3 },
      ),
    );
    const { events, error } = await collectUntilError(provider.stream(call()));
    expect(error).toBeUndefined();
    const calls = events.filter((e) => e.type === 'tool_call');
    expect(calls.filter((e) => e.id)).toEqual([
      { type: 'tool_call', index: 0, id: 'toolu_1', name: 'end_call' },
      { type: 'tool_call', index: 1, id: 'toolu_2', name: 'skip_turn' },
    ]);
    const args = (i: number) =>
      calls
        .filter((e) => e.index === i)
        .map((e) => e.arguments ?? '')
        .join('');
    expect(JSON.parse(args(0))).toEqual({ reason: 'user said bye' });
    expect(args(1)).toBe('{}');
    expect(events.at(-2)).toEqual({ type: 'finish', reason: 'tool_calls' });
  });

  test('a 529 before the first byte rejects with a retryable overloaded UpstreamError', async () => {
    server.enqueue(anthropicOverloaded());
    const { events, error } = await collectUntilError(provider.stream(call()));
    expect(events).toEqual([]);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ retryable: true, upstreamStatus: 529, errorClass: 'overloaded' });
  });

  test('a 429 carries the retry-after the upstream asked for', async () => {
    server.enqueue(
      anthropicError(429, 'rate_limit_error', 'Number of requests exceeded', { 'retry-after': '7' }),
    );
    const { error } = await collectUntilError(provider.stream(call()));
    expect(error).toMatchObject({ retryable: true, errorClass: 'http_429', retryAfterMs: 7000 });
  });

  test('a 400 is not retryable', async () => {
    server.enqueue(anthropicError(400, 'invalid_request_error', 'messages: roles must alternate'));
    const { error } = await collectUntilError(provider.stream(call()));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ retryable: false, status: 400, errorClass: 'http_4xx_request' });
  });

  test('an error event mid-stream throws after the events already yielded', async () => {
    const frames = anthropicEvents({ blocks: [{ type: 'text', text: ['Looking', ' closer', ' now'] }] });
    // message_start, ping, content_block_start, two text deltas, then the error.
    server.enqueue({
      kind: 'sse',
      events: [...frames.slice(0, 5), anthropicErrorEvent('overloaded_error', 'Overloaded')],
    });
    const { events, error } = await collectUntilError(provider.stream(call()));
    expect(events).toEqual([
      { type: 'text', text: 'Looking' },
      { type: 'text', text: ' closer' },
    ]);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ retryable: true, errorClass: 'overloaded' });
  });

  test('a stream that ends cleanly but without message_stop is reported as truncated', async () => {
    const frames = anthropicEvents({ blocks: [{ type: 'text', text: ['Half'] }] });
    server.enqueue({ kind: 'sse', events: frames.slice(0, 4) });
    const { events, error } = await collectUntilError(provider.stream(call()));
    expect(events).toEqual([{ type: 'text', text: 'Half' }]);
    expect(error).toMatchObject({ errorClass: 'truncated', retryable: true });
  });

  test('a connection cut mid-stream is a retryable UpstreamError', async () => {
    const frames = anthropicEvents({ blocks: [{ type: 'text', text: ['Half'] }] });
    server.enqueue({ kind: 'cut', events: frames.slice(0, 4) });
    const { events, error } = await collectUntilError(provider.stream(call()));
    expect(events).toEqual([{ type: 'text', text: 'Half' }]);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ retryable: true });
  });

  test('a 200 HTML page instead of an event stream is not mistaken for an answer', async () => {
    server.enqueue({ kind: 'wrongContentType' });
    const { events, error } = await collectUntilError(provider.stream(call()));
    expect(events).toEqual([]);
    expect(error).toBeInstanceOf(UpstreamError);
  });

  test('aborting mid-stream stops the request and reports an abort, not a truncation', async () => {
    const frames = anthropicEvents({ blocks: [{ type: 'text', text: ['First', 'never'] }] });
    server.enqueue({ kind: 'hangAfter', events: frames.slice(0, 4) });
    const controller = new AbortController();
    const started = Date.now();
    const events: StreamEvent[] = [];
    let error: unknown;
    try {
      for await (const e of provider.stream(call({ signal: controller.signal }))) {
        events.push(e);
        controller.abort();
      }
    } catch (err) {
      error = err;
    }
    expect(events).toEqual([{ type: 'text', text: 'First' }]);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ errorClass: 'aborted' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test('aborting before the response reports the abort reason when it is an UpstreamError (a timeout)', async () => {
    server.enqueue({ kind: 'hang' });
    const controller = new AbortController();
    const reason = new UpstreamError('anthropic: no first byte within 50 ms', {
      status: 504,
      errorClass: 'first_byte_timeout',
      retryable: true,
    });
    const pending = collectUntilError(provider.stream(call({ signal: controller.signal })));
    await server.waitForRequests(1);
    controller.abort(reason);
    const { events, error } = await pending;
    expect(events).toEqual([]);
    expect(error).toBe(reason);
  });

  test('the SDK timeout fires as a retryable timeout UpstreamError', async () => {
    const slow = createAnthropicProvider(config(), { defaultMaxTokens: 512, timeoutMs: 200, ...transport });
    server.enqueue({ kind: 'hang' });
    const { error } = await collectUntilError(slow.stream(call()));
    expect(error).toMatchObject({ retryable: true, errorClass: 'timeout', status: 504 });
  });

  test("a request the translation refuses is the caller's 400, never reaches the upstream, never counts", async () => {
    const request = chatRequestSchema.parse({
      model: 'm',
      messages: [
        { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,Qk0=' } }] },
      ],
    });
    const { error } = await collectUntilError(provider.stream(call({ request })));
    expect(error).toMatchObject({
      status: 400,
      errorClass: 'local_invalid_request',
      param: 'messages[0].content[0].image_url.url',
    });
    expect((error as UpstreamError).cause).toBeInstanceOf(ValidationError);
    expect(countsAsFailure(error as UpstreamError)).toBe(false);
    expect(server.requests).toHaveLength(0);
  });

  test('configured reflects whether an API key is set', () => {
    expect(provider.configured).toBe(true);
    expect(provider).toMatchObject({ name: 'anthropic', kind: 'anthropic' });
    const keyless = createAnthropicProvider(config({ apiKey: undefined }), {
      defaultMaxTokens: 1,
      timeoutMs: 1,
    });
    expect(keyless.configured).toBe(false);
  });

  test('a keyless provider makes no request and says it is not configured', async () => {
    const keyless = createAnthropicProvider(config({ apiKey: undefined }), {
      defaultMaxTokens: 1,
      timeoutMs: 1,
    });
    const { error } = await collectUntilError(keyless.stream(call()));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ errorClass: 'not_configured', retryable: false });
    expect(server.requests).toHaveLength(0);
  });
});
