// Proves the fake upstreams speak the real wire formats: the official SDKs, pointed at them,
// parse their streams (split packets included) and their errors as they would the real APIs.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import {
  anthropicError,
  anthropicErrorEvent,
  anthropicEvents,
  anthropicOverloaded,
  anthropicReply,
  type FakeAnthropicServer,
  startAnthropicServer,
} from '../fakes/anthropic-server';
import { type FakeOpenAIServer, openaiError, openaiReply, startOpenAIServer } from '../fakes/openai-server';
import { type ScriptedServer, startScriptedServer } from '../fakes/scripted-server';

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe('fake OpenAI server with the openai SDK', () => {
  let server: FakeOpenAIServer;
  let client: OpenAI;
  beforeEach(async () => {
    server = await startOpenAIServer();
    client = new OpenAI({ apiKey: 'sk-test', baseURL: `${server.url}/v1`, maxRetries: 0 });
  });
  afterEach(() => server.close());

  test('streams the default reply with role first, finish_reason and the usage chunk', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-x',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = await collect(stream);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hello from the fake.');
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({
      method: 'POST',
      path: '/v1/chat/completions',
      body: { model: 'gpt-x', stream: true },
    });
    expect(server.requests[0]?.headers.authorization).toBe('Bearer sk-test');
  });

  test('sends no usage chunk unless include_usage was asked for', async () => {
    const chunks = await collect(
      await client.chat.completions.create({
        model: 'm',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      }),
    );
    expect(chunks.every((c) => c.choices.length === 1 && !c.usage)).toBe(true);
  });

  test('answers non-streaming requests with a chat.completion', async () => {
    server.replyWith(['Just', ' this']);
    const res = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.object).toBe('chat.completion');
    expect(res.choices[0]?.message.content).toBe('Just this');
    expect(res.choices[0]?.finish_reason).toBe('stop');
  });

  test('serves /chat/completions too (base URL without /v1)', async () => {
    const bare = new OpenAI({ apiKey: 'k', baseURL: server.url, maxRetries: 0 });
    const res = await bare.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.choices[0]?.message.content).toBe('Hello from the fake.');
    expect(server.requests[0]?.path).toBe('/chat/completions');
  });

  test('tool-call deltas split into one-byte packets reassemble to the original arguments', async () => {
    server.enqueue(
      openaiReply(
        {
          toolCalls: [
            { id: 'call_1', name: 'get_weather', arguments: ['{"city":', '"Par', 'is"}'] },
            { id: 'call_2', name: 'end_call', arguments: '{}' },
          ],
        },
        { splitEvery: 1 },
      ),
    );
    const chunks = await collect(
      await client.chat.completions.create({
        model: 'm',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      }),
    );
    const args = new Map<number, string>();
    const names = new Map<number, string>();
    for (const c of chunks) {
      for (const tc of c.choices[0]?.delta.tool_calls ?? []) {
        if (tc.function?.name) names.set(tc.index, tc.function.name);
        args.set(tc.index, (args.get(tc.index) ?? '') + (tc.function?.arguments ?? ''));
      }
    }
    expect([...names]).toEqual([
      [0, 'get_weather'],
      [1, 'end_call'],
    ]);
    expect(args.get(0)).toBe('{"city":"Paris"}');
    expect(args.get(1)).toBe('{}');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  test('a 429 with retry-after reaches the SDK as a RateLimitError carrying the header', async () => {
    server.enqueue(openaiError(429, 'Rate limit reached', { headers: { 'retry-after': '2' } }));
    const err = await client.chat.completions
      .create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((err as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('2');
  });

  test('a 500 reaches the SDK as an InternalServerError', async () => {
    server.enqueue(openaiError(500, 'boom'));
    await expect(
      client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toBeInstanceOf(OpenAI.InternalServerError);
  });

  test('unknown paths answer 404', async () => {
    const res = await fetch(`${server.url}/v1/nope`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
  });
});

describe('fake Anthropic server with @anthropic-ai/sdk', () => {
  let server: FakeAnthropicServer;
  let client: Anthropic;
  beforeEach(async () => {
    server = await startAnthropicServer();
    client = new Anthropic({ apiKey: 'sk-ant-test', baseURL: server.url, maxRetries: 0 });
  });
  afterEach(() => server.close());

  const params = { model: 'claude-x', max_tokens: 64, messages: [{ role: 'user' as const, content: 'hi' }] };

  test('streams text events the SDK parses, ping skipped', async () => {
    const events = await collect(await client.messages.create({ ...params, stream: true }));
    expect(events.map((e) => e.type)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const text = events
      .map((e) => (e.type === 'content_block_delta' && e.delta.type === 'text_delta' ? e.delta.text : ''))
      .join('');
    expect(text).toBe('Hello from the fake.');
    expect(server.requests[0]).toMatchObject({
      path: '/v1/messages',
      body: { model: 'claude-x', stream: true },
    });
  });

  test('answers non-streaming requests with a Message', async () => {
    server.replyWith({ blocks: [{ type: 'tool_use', id: 'toolu_1', name: 'end_call', input: [] }] });
    const msg = await client.messages.create(params);
    expect(msg.stop_reason).toBe('tool_use');
    expect(msg.content).toEqual([{ type: 'tool_use', id: 'toolu_1', name: 'end_call', input: {} }]);
  });

  test('tool_use input_json_delta split into one-byte packets reassembles', async () => {
    server.enqueue(
      anthropicReply(
        {
          blocks: [
            { type: 'thinking', thinking: ['Let me ', 'check.'] },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: ['{"city": "Pa', 'ris"}'] },
          ],
        },
        { splitEvery: 1 },
      ),
    );
    const events = await collect(await client.messages.create({ ...params, stream: true }));
    let json = '';
    let thinking = '';
    for (const e of events) {
      if (e.type !== 'content_block_delta') continue;
      if (e.delta.type === 'input_json_delta') json += e.delta.partial_json;
      if (e.delta.type === 'thinking_delta') thinking += e.delta.thinking;
    }
    expect(JSON.parse(json)).toEqual({ city: 'Paris' });
    expect(thinking).toBe('Let me check.');
    expect(events.at(-2)).toMatchObject({ type: 'message_delta', delta: { stop_reason: 'tool_use' } });
  });

  test('an error event mid-stream throws an APIError of type overloaded_error after earlier events', async () => {
    const frames = anthropicEvents({ blocks: [{ type: 'text', text: ['Hel', 'lo'] }] });
    server.enqueue({
      kind: 'sse',
      events: [...frames.slice(0, 4), anthropicErrorEvent('overloaded_error', 'Overloaded')],
    });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const e of await client.messages.create({ ...params, stream: true })) seen.push(e.type);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['message_start', 'content_block_start', 'content_block_delta']);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).type).toBe('overloaded_error');
  });

  test('a 529 before the stream reaches the SDK as an APIError with status 529', async () => {
    server.enqueue(anthropicOverloaded());
    const err = await client.messages.create({ ...params, stream: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    expect((err as InstanceType<typeof Anthropic.APIError>).type).toBe('overloaded_error');
  });

  test('a 429 keeps its retry-after header', async () => {
    server.enqueue(anthropicError(429, 'rate_limit_error', 'slow down', { 'retry-after': '3' }));
    const err = await client.messages.create(params).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect((err as InstanceType<typeof Anthropic.RateLimitError>).headers?.get('retry-after')).toBe('3');
  });
});

describe('scripted server failure behaviours', () => {
  let server: ScriptedServer;
  beforeEach(async () => {
    server = await startScriptedServer();
  });
  afterEach(() => server.close());

  test('hang never answers; the SDK timeout fires and close() releases the socket', async () => {
    server.setDefault({ kind: 'hang' });
    const client = new Anthropic({ apiKey: 'k', baseURL: server.url, maxRetries: 0, timeout: 300 });
    await expect(
      client.messages.create({ model: 'm', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toBeInstanceOf(Anthropic.APIConnectionTimeoutError);
  });

  test('hangAfter sends its events then stalls; an abort ends the stream', async () => {
    const frames = anthropicEvents({ blocks: [{ type: 'text', text: ['a', 'b'] }] });
    server.enqueue({ kind: 'hangAfter', events: frames.slice(0, 3) });
    const client = new Anthropic({ apiKey: 'k', baseURL: server.url, maxRetries: 0 });
    const controller = new AbortController();
    const stream = await client.messages.create(
      { model: 'm', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }], stream: true },
      { signal: controller.signal },
    );
    const seen: string[] = [];
    for await (const e of stream) {
      seen.push(e.type);
      if (seen.length === 2) setTimeout(() => controller.abort(), 50);
    }
    expect(seen).toEqual(['message_start', 'content_block_start']);
  });

  test('cut destroys the socket after its events; the SDK stream rejects', async () => {
    const frames = anthropicEvents({ blocks: [{ type: 'text', text: ['a', 'b'] }] });
    server.enqueue({ kind: 'cut', events: frames.slice(0, 4) });
    const client = new Anthropic({ apiKey: 'k', baseURL: server.url, maxRetries: 0 });
    const seen: string[] = [];
    const err = await (async () => {
      const stream = await client.messages.create({
        model: 'm',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      });
      for await (const e of stream) seen.push(e.type);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['message_start', 'content_block_start', 'content_block_delta']);
    // fetch reports the cut as a TypeError from Node's own realm, so match the shape, not the class.
    expect(err).toMatchObject({ message: expect.stringMatching(/terminated|socket|closed/i) });
  });

  test('wrongContentType answers 200 text/html', async () => {
    server.enqueue({ kind: 'wrongContentType' });
    const res = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  });

  test('malformed stream data makes the openai SDK throw while parsing', async () => {
    server.enqueue({ kind: 'malformed' });
    // The SDK logs the unparseable frame before throwing; keep the test output clean.
    const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const client = new OpenAI({ apiKey: 'k', baseURL: server.url, maxRetries: 0 });
    await expect(
      (async () => {
        const stream = await client.chat.completions.create({
          model: 'm',
          messages: [{ role: 'user', content: 'hi' }],
          stream: true,
        });
        await collect(stream);
      })(),
    ).rejects.toThrow();
    quiet.mockRestore();
  });

  test('records method, path, headers and the parsed body; plain data payloads become data frames', async () => {
    server.enqueue({ kind: 'sse', events: ['{"n":1}', 'event: custom\ndata: 2', '[DONE]'] });
    const res = await fetch(`${server.url}/anything?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-session-id': 's-1' },
      body: JSON.stringify({ hello: 'world' }),
    });
    expect(await res.text()).toBe('data: {"n":1}\n\nevent: custom\ndata: 2\n\ndata: [DONE]\n\n');
    expect(server.requests[0]).toMatchObject({
      method: 'POST',
      path: '/anything?x=1',
      body: { hello: 'world' },
    });
    expect(server.requests[0]?.headers['x-session-id']).toBe('s-1');
  });

  test('the queue answers first, then the default', async () => {
    server.setDefault({ kind: 'json', status: 200, body: { from: 'default' } });
    server.enqueue({ kind: 'json', status: 201, body: { from: 'queue' } });
    const first = await fetch(server.url, { method: 'POST' });
    const second = await fetch(server.url, { method: 'POST' });
    expect([first.status, await first.json()]).toEqual([201, { from: 'queue' }]);
    expect([second.status, await second.json()]).toEqual([200, { from: 'default' }]);
  });
});
