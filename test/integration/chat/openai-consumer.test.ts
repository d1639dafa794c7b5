// The official `openai` client consumes our endpoint, which calls a fake OpenAI upstream
// through the official SDK: both sides of the wire are real.
import OpenAI from 'openai';
import { type FakeOpenAIServer, openaiError, startOpenAIServer } from '../../fakes/openai-server';
import { type RunningChatServer, rawPost, sseEvents, startChatServer } from '../../helpers/chat-server';

let upstream: FakeOpenAIServer;
let server: RunningChatServer;
let client: OpenAI;
const KEY = 'test-chat-key-123';

beforeAll(async () => {
  upstream = await startOpenAIServer();
  server = await startChatServer({
    OPENAI_API_KEY: 'sk-upstream',
    OPENAI_BASE_URL: `${upstream.url}/v1`,
    CHAT_API_KEY: KEY,
    FIRST_BYTE_TIMEOUT_MS: '400',
  });
  client = new OpenAI({ apiKey: KEY, baseURL: `${server.url}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await server.close();
  await upstream.close();
});
beforeEach(() => {
  upstream.requests.length = 0;
  upstream.replyWith(['Hello', ' there', '!']);
});

type Body = Record<string, unknown> & { messages: Record<string, unknown>[] };
const lastBody = () => upstream.requests.at(-1)!.body as Body;

describe('streaming', () => {
  test('streams every upstream token in order with one id, role first and a finish chunk', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hello there!');
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks.filter((c) => c.choices[0]?.delta.role).length).toBe(1);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.every((c) => c.model === 'gpt-4o')).toBe(true);
    expect(chunks.some((c) => c.usage)).toBe(false);
    // Usage is always requested upstream, even when the client did not ask.
    expect(lastBody().stream_options).toEqual({ include_usage: true });
  });

  test('sends a usage chunk with empty choices only when the client asks', async () => {
    upstream.replyWith({
      text: ['a', 'b'],
      usage: { prompt_tokens: 7, completion_tokens: 2, cached_tokens: 3 },
    });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 });
    expect(last.usage?.prompt_tokens_details?.cached_tokens).toBe(3);
  });

  test('the raw stream ends with data: [DONE] and uses text/event-stream', async () => {
    const res = await rawPost(
      `${server.url}/chat/completions`,
      { model: 'x', stream: true, messages: [{ role: 'user', content: 'hi' }] },
      { authorization: `Bearer ${KEY}` },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(sseEvents(res.text).filter((e) => e === '[DONE]')).toHaveLength(1);
  });

  test('answers on /chat/completions too (ElevenLabs appends it to the base URL)', async () => {
    const plain = new OpenAI({ apiKey: KEY, baseURL: server.url, maxRetries: 0 });
    const r = await plain.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(r.choices[0]!.message.content).toBe('Hello there!');
  });

  test('reasoning deltas are forwarded as reasoning_content', async () => {
    upstream.replyWith({ reasoning: ['think', 'ing'], text: ['ok'] });
    const res = await rawPost(
      `${server.url}/v1/chat/completions`,
      { model: 'x', stream: true, messages: [{ role: 'user', content: 'q' }] },
      { authorization: `Bearer ${KEY}` },
    );
    const deltas = sseEvents(res.text)
      .filter((e): e is { choices: { delta: Record<string, string> }[] } => typeof e === 'object')
      .map((e) => e.choices[0]?.delta);
    expect(deltas.map((d) => d?.reasoning_content ?? '').join('')).toBe('thinking');
  });
});

describe('non-streaming', () => {
  test('returns one chat.completion with usage', async () => {
    upstream.replyWith({ text: ['Hi', ' you'], usage: { prompt_tokens: 5, completion_tokens: 2 } });
    const r = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(r.object).toBe('chat.completion');
    expect(r.choices[0]!.message).toMatchObject({ role: 'assistant', content: 'Hi you' });
    expect(r.choices[0]!.finish_reason).toBe('stop');
    expect(r.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 });
  });
});

describe('tool calls', () => {
  test('round trip: streamed tool_calls reach the client; history goes back upstream intact', async () => {
    upstream.replyWith({
      toolCalls: [{ id: 'call_1', name: 'end_call', arguments: ['{"rea', 'son":"bye"}'] }],
    });
    const tools = [
      {
        type: 'function' as const,
        function: {
          name: 'end_call',
          description: 'End the call',
          parameters: { type: 'object', properties: { reason: { type: 'string' } } },
        },
      },
    ];
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'bye' }],
      tools,
      stream: true,
    });
    let args = '';
    let name = '';
    let id = '';
    let finish: string | null | undefined;
    for await (const c of stream) {
      for (const t of c.choices[0]?.delta.tool_calls ?? []) {
        expect(t.index).toBe(0);
        if (t.id) id = t.id;
        if (t.function?.name) name += t.function.name;
        args += t.function?.arguments ?? '';
      }
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect({ id, name, args: JSON.parse(args), finish }).toEqual({
      id: 'call_1',
      name: 'end_call',
      args: { reason: 'bye' },
      finish: 'tool_calls',
    });
    expect(lastBody().tools).toEqual(tools);

    upstream.replyWith(['Goodbye!']);
    const r = await client.chat.completions.create({
      model: 'gpt-4o',
      tools,
      messages: [
        { role: 'user', content: 'bye' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id, type: 'function', function: { name, arguments: args } }],
        },
        { role: 'tool', tool_call_id: id, content: 'ok' },
      ],
    });
    expect(r.choices[0]!.message.content).toBe('Goodbye!');
    expect(lastBody().messages.slice(1)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'end_call', arguments: '{"reason":"bye"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'ok' },
    ]);
  });

  test('non-streaming tool calls are aggregated into message.tool_calls', async () => {
    upstream.replyWith({
      toolCalls: [
        { id: 'c1', name: 'skip_turn', arguments: '{}' },
        { id: 'c2', name: 'language_detection', arguments: '{"language":"fr"}' },
      ],
    });
    const r = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(r.choices[0]!.finish_reason).toBe('tool_calls');
    expect(
      r.choices[0]!.message.tool_calls?.map(
        (t) => t.type === 'function' && [t.id, t.function.name, t.function.arguments],
      ),
    ).toEqual([
      ['c1', 'skip_turn', '{}'],
      ['c2', 'language_detection', '{"language":"fr"}'],
    ]);
  });
});

describe('ElevenLabs-shaped requests', () => {
  const elevenLabsBody = {
    model: 'gpt-4o',
    stream: true,
    temperature: null,
    max_tokens: 300,
    user_id: 'user-42',
    elevenlabs_extra_body: { session_id: 'abc' },
    messages: [
      { role: 'system', content: 'You are a helpful voice agent.' },
      { role: 'assistant', content: 'Hi! What can I look at for you?' },
      { role: 'user', content: [{ type: 'text', text: 'What is in this picture?' }] },
    ],
    tools: [
      {
        type: 'function',
        function: { name: 'end_call', description: 'end', parameters: { type: 'object', properties: {} } },
      },
      {
        type: 'function',
        function: {
          name: 'language_detection',
          parameters: { type: 'object', properties: { language: { type: 'string' } } },
        },
      },
      // Tools without a description may come with `description: null`, which OpenAI accepts.
      {
        type: 'function',
        function: { name: 'skip_turn', description: null, parameters: { type: 'object', properties: {} } },
      },
    ],
    some_future_field: { x: 1 },
  };

  test('tolerates extra fields, maps user_id to user, strips ElevenLabs-only fields, keeps tools and order', async () => {
    const res = await rawPost(`${server.url}/v1/chat/completions`, elevenLabsBody, {
      authorization: `Bearer ${KEY}`,
    });
    expect(res.status).toBe(200);
    const sent = lastBody();
    expect(sent.user).toBe('user-42');
    expect(sent).not.toHaveProperty('user_id');
    expect(sent).not.toHaveProperty('elevenlabs_extra_body');
    expect(sent).not.toHaveProperty('some_future_field');
    expect(sent).not.toHaveProperty('temperature');
    expect(sent.max_completion_tokens).toBe(300);
    expect(sent.messages.map((m) => m.role)).toEqual(['system', 'assistant', 'user']);
    expect((sent.tools as { function: { name: string } }[]).map((t) => t.function.name)).toEqual([
      'end_call',
      'language_detection',
      'skip_turn',
    ]);
    // A null description is no description: no upstream is sent a null.
    expect((sent.tools as { function: Record<string, unknown> }[])[2]!.function).not.toHaveProperty(
      'description',
    );
  });

  test('the same request twice gives two complete answers and identical upstream bodies', async () => {
    const a = await rawPost(`${server.url}/v1/chat/completions`, elevenLabsBody, {
      authorization: `Bearer ${KEY}`,
    });
    const b = await rawPost(`${server.url}/v1/chat/completions`, elevenLabsBody, {
      authorization: `Bearer ${KEY}`,
    });
    expect(a.text.endsWith('data: [DONE]\n\n') && b.text.endsWith('data: [DONE]\n\n')).toBe(true);
    const [r1, r2] = upstream.requests.slice(-2);
    expect(r1!.body).toEqual(r2!.body);
  });

  test.each([
    ['empty', ''],
    ['null, as OpenAI writes it for a message that only calls tools', null],
  ])(
    'history with earlier tool calls (assistant content %s) and tool results is forwarded faithfully',
    async (_name, content) => {
      const history = [
        {
          role: 'assistant',
          content,
          tool_calls: [
            {
              id: 't1',
              type: 'function',
              function: { name: 'language_detection', arguments: '{"language":"de"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 't1', content: 'switched' },
        { role: 'user', content: 'Danke' },
      ];
      const body = { ...elevenLabsBody, messages: [...elevenLabsBody.messages, ...history] };
      const res = await rawPost(`${server.url}/v1/chat/completions`, body, {
        authorization: `Bearer ${KEY}`,
      });
      expect(res.status).toBe(200);
      expect(lastBody().messages.slice(3)).toEqual(history);
    },
  );
});

describe('errors', () => {
  const auth = { authorization: `Bearer ${KEY}` };
  const user = [{ role: 'user', content: 'hi' }];

  test('401 with an OpenAI error object without or with a wrong key', async () => {
    const none = await rawPost(`${server.url}/v1/chat/completions`, { model: 'x', messages: user });
    expect(none.status).toBe(401);
    expect(JSON.parse(none.text)).toEqual({
      error: {
        message: expect.stringContaining('bearer'),
        type: 'authentication_error',
        param: null,
        code: 'invalid_api_key',
      },
    });
    const wrong = new OpenAI({ apiKey: 'nope', baseURL: `${server.url}/v1`, maxRetries: 0 });
    await expect(
      wrong.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toMatchObject({ status: 401 });
    expect(upstream.requests).toHaveLength(0);
  });

  test('400 invalid_json for malformed JSON', async () => {
    const r = await rawPost(`${server.url}/v1/chat/completions`, '{"model": ', auth);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json' });
  });

  test('400 naming the field for wrong types', async () => {
    const r = await rawPost(
      `${server.url}/v1/chat/completions`,
      { model: 'x', messages: [{ role: 'user', content: 42 }] },
      auth,
    );
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).error).toMatchObject({
      type: 'invalid_request_error',
      param: 'messages[0].content',
    });
    const m = await rawPost(`${server.url}/v1/chat/completions`, { model: 'x', messages: [] }, auth);
    expect(JSON.parse(m.text).error.param).toBe('messages');
  });

  test('413 for a body over the limit', async () => {
    const small = await startChatServer({
      OPENAI_API_KEY: 'k',
      OPENAI_BASE_URL: `${upstream.url}/v1`,
      MAX_BODY_BYTES: '1000',
    });
    try {
      const r = await rawPost(`${small.url}/v1/chat/completions`, {
        model: 'x',
        messages: [{ role: 'user', content: 'a'.repeat(5000) }],
      });
      expect(r.status).toBe(413);
      expect(JSON.parse(r.text).error.type).toBe('invalid_request_error');
    } finally {
      await small.close();
    }
  });

  test('404 model_not_found when no route matches', async () => {
    const strict = await startChatServer({
      OPENAI_API_KEY: 'k',
      OPENAI_BASE_URL: `${upstream.url}/v1`,
      MODEL_ROUTES: '{"gpt-4o":["openai:gpt-4o"]}',
    });
    try {
      const r = await rawPost(`${strict.url}/v1/chat/completions`, { model: 'other', messages: user });
      expect(r.status).toBe(404);
      expect(JSON.parse(r.text).error).toMatchObject({
        type: 'not_found_error',
        code: 'model_not_found',
        param: 'model',
      });
      const unknownPath = await rawPost(`${strict.url}/v2/whatever`, {});
      expect(unknownPath.status).toBe(404);
      expect(JSON.parse(unknownPath.text).error.type).toBe('not_found_error');
    } finally {
      await strict.close();
    }
  });

  test('upstream 500 before the first byte becomes a 502 error object', async () => {
    upstream.setDefault(openaiError(500, 'boom'));
    await expect(
      client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      }),
    ).rejects.toMatchObject({
      status: 502,
      error: expect.objectContaining({ type: 'upstream_error' }),
    });
  });

  test('an upstream that hangs gets a 504 after the first-byte timeout, not a hung client', async () => {
    upstream.setDefault({ kind: 'hang' });
    const t0 = Date.now();
    const r = await rawPost(
      `${server.url}/v1/chat/completions`,
      { model: 'gpt-4o', stream: true, messages: user },
      auth,
    );
    expect(r.status).toBe(504);
    expect(JSON.parse(r.text).error).toMatchObject({ type: 'timeout_error' });
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  test('a stream cut mid-way ends with an error event, never silently', async () => {
    upstream.setDefault({
      kind: 'cut',
      events: [
        '{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}',
      ],
    });
    const r = await rawPost(
      `${server.url}/v1/chat/completions`,
      { model: 'gpt-4o', stream: true, messages: user },
      auth,
    );
    expect(r.status).toBe(200);
    const events = sseEvents(r.text);
    expect(events).not.toContain('[DONE]');
    const last = events.at(-1) as { error: { type: string } };
    expect(last.error.type).toBeDefined();
    // The official client surfaces it as an error too.
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    await expect(
      (async () => {
        for await (const _ of stream) {
          // drain
        }
      })(),
    ).rejects.toThrow();
  });
});
