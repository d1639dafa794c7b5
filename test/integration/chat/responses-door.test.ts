// The Responses door end to end: the official `openai` client (responses.create streamed and
// not, responses.stream) against the whole local product, whose routes reach fake OpenAI,
// Anthropic and Gemini (OpenAI-compatible) upstreams through the real SDKs. ElevenLabs-shaped
// requests (api_type "responses"): a session image, its system tools, max_output_tokens -1.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import sharp from 'sharp';
import { type FakeAnthropicServer, startAnthropicServer } from '../../fakes/anthropic-server';
import {
  type FakeOpenAIServer,
  openaiChunks,
  openaiError,
  startOpenAIServer,
} from '../../fakes/openai-server';
import {
  type BrowserSession,
  createBrowserSession,
  type RunningDevServer,
  startDevServer,
  uploadThroughS3,
} from '../../helpers/dev-server';

const ORIGIN = 'https://app.example.com';
const KEY = 'chat-key';
let openai: FakeOpenAIServer;
let gemini: FakeOpenAIServer;
let anthropic: FakeAnthropicServer;
let server: RunningDevServer;
let client: OpenAI;
let session: BrowserSession;

beforeAll(async () => {
  openai = await startOpenAIServer();
  gemini = await startOpenAIServer();
  anthropic = await startAnthropicServer();
  server = await startDevServer({
    env: {
      OPENAI_API_KEY: 'sk-up',
      OPENAI_BASE_URL: `${openai.url}/v1`,
      ANTHROPIC_API_KEY: 'sk-ant-up',
      ANTHROPIC_BASE_URL: anthropic.url,
      GEMINI_API_KEY: 'gm-up',
      GEMINI_BASE_URL: `${gemini.url}/v1`,
      CHAT_API_KEY: KEY,
      ALLOWED_ORIGINS: ORIGIN,
      MODEL_ROUTES: JSON.stringify({
        'via-openai': ['openai:gpt-4o'],
        'via-anthropic': ['anthropic:claude-x'],
        'via-gemini': ['gemini:gemini-2.5-flash'],
        failover: ['openai:gpt-4o', 'anthropic:claude-x'],
        buffered: { targets: ['openai:gpt-4o'], bufferWords: '... ' },
      }),
    },
  });
  client = new OpenAI({ apiKey: KEY, baseURL: `${server.url}/v1`, maxRetries: 0 });
  session = await createBrowserSession(server.url, ORIGIN);
  const png = await sharp({
    create: { width: 64, height: 48, channels: 3, background: { r: 0, g: 200, b: 0 } },
  })
    .jpeg()
    .toBuffer();
  const up = await uploadThroughS3(server.url, ORIGIN, session, png);
  expect(up.status).toBe(200);
}, 60_000);
afterAll(async () => {
  await server?.close();
  await Promise.all([openai?.close(), gemini?.close(), anthropic?.close()]);
});

/**
 * A Responses turn as ElevenLabs sends it (custom_llm.api_type "responses"), from the fixture:
 * its system tools, max_output_tokens -1, user_id, the session id in elevenlabs_extra_body.
 */
const FIXTURE = JSON.parse(
  readFileSync(join(__dirname, '../../fixtures/elevenlabs/responses-turn.json'), 'utf8'),
) as { tools: { name: string }[] } & Record<string, unknown>;
const SYSTEM_TOOLS = FIXTURE.tools.map((t) => t.name);

function elevenLabsTurn(model: string, input: string | OpenAI.Responses.ResponseInput) {
  return {
    ...FIXTURE,
    model,
    instructions: 'You are a voice agent that can see.',
    input,
    elevenlabs_extra_body: { session_id: session.sessionId },
  } as unknown as OpenAI.Responses.ResponseCreateParamsStreaming;
}

type Target = {
  model: string;
  reply(text: string[], call?: { id: string; name: string; args: string[] }): void;
  /** The last upstream request body. */
  last(): Record<string, unknown>;
  /** Data URIs of the images the last upstream request carried. */
  images(): string[];
  /** The tool names offered upstream. */
  tools(): string[];
  /** The history the upstream got, simplified: role and the kinds of its parts. */
  history(): string[];
};

type OpenAIMsg = {
  role: string;
  content: string | { type: string; image_url?: { url: string } }[] | null;
  tool_calls?: unknown[];
};
function openaiTarget(model: string, fake: () => FakeOpenAIServer): Target {
  const last = () => fake().requests.at(-1)!.body as Record<string, unknown>;
  const messages = () => last().messages as OpenAIMsg[];
  return {
    model,
    reply: (text, call) =>
      fake().replyWith({
        text,
        ...(call ? { toolCalls: [{ id: call.id, name: call.name, arguments: call.args }] } : {}),
      }),
    last,
    images: () =>
      messages().flatMap((m) =>
        Array.isArray(m.content)
          ? m.content.filter((p) => p.type === 'image_url').map((p) => p.image_url!.url)
          : [],
      ),
    tools: () => ((last().tools ?? []) as { function: { name: string } }[]).map((t) => t.function.name),
    history: () => messages().map((m) => `${m.role}${m.tool_calls ? `+${m.tool_calls.length}calls` : ''}`),
  };
}

type AnthropicMsg = {
  role: string;
  content: string | { type: string; source?: { type: string; data?: string; media_type?: string } }[];
};
const anthropicTarget: Target = {
  model: 'via-anthropic',
  reply: (text, call) =>
    anthropic.replyWith({
      blocks: [
        { type: 'text', text },
        ...(call ? [{ type: 'tool_use' as const, id: call.id, name: call.name, input: call.args }] : []),
      ],
    }),
  last: () => anthropic.requests.at(-1)!.body as Record<string, unknown>,
  images: () =>
    (anthropicTarget.last().messages as AnthropicMsg[]).flatMap((m) =>
      Array.isArray(m.content)
        ? m.content
            .filter((p) => p.type === 'image')
            .map((p) => `data:${p.source!.media_type};base64,${p.source!.data}`)
        : [],
    ),
  tools: () => ((anthropicTarget.last().tools ?? []) as { name: string }[]).map((t) => t.name),
  history: () =>
    (anthropicTarget.last().messages as AnthropicMsg[]).map(
      (m) => `${m.role}:${Array.isArray(m.content) ? m.content.map((p) => p.type).join(',') : 'text'}`,
    ),
};

const targets: [string, Target][] = [
  ['OpenAI', openaiTarget('via-openai', () => openai)],
  ['Anthropic', anthropicTarget],
  ['Gemini (compatible)', openaiTarget('via-gemini', () => gemini)],
];

describe.each(targets)('%s', (_name, target) => {
  test('streamed: the session image reaches the provider; text and an end_call function_call stream back in order', async () => {
    target.reply(['I see', ' a green square.'], {
      id: 'call_end1',
      name: 'end_call',
      args: ['{"reason":', '"done"}'],
    });
    const stream = await client.responses.create(
      elevenLabsTurn(target.model, [{ role: 'user', content: 'What do you see? Bye!' }]),
    );
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const e of stream) events.push(e);

    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const types = events.map((e) => e.type);
    expect(types.slice(0, 4)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
    ]);
    expect(types.at(-1)).toBe('response.completed');
    const text = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : [])).join('');
    expect(text).toBe('I see a green square.');
    const done = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
    expect(done.response.output.map((o) => o.type)).toEqual(['message', 'function_call']);
    expect(done.response.output[1]).toMatchObject({
      type: 'function_call',
      call_id: 'call_end1',
      name: 'end_call',
      arguments: '{"reason":"done"}',
      status: 'completed',
    });
    expect(done.response.usage?.total_tokens).toBeGreaterThan(0);
    expect(done.response.model).toBe(target.model);

    // What the provider got: the session's image, the system tool, no token limit from -1.
    const images = target.images();
    expect(images).toHaveLength(1);
    expect(images[0]).toMatch(/^data:image\/jpeg;base64,/);
    // Every ElevenLabs system tool survives translation to the provider.
    expect(target.tools()).toEqual(SYSTEM_TOOLS);
    expect(target.last().max_completion_tokens ?? target.last().max_tokens ?? null).not.toBe(-1);
  });

  test('history in: function_call + function_call_output items reach the provider as a tool round', async () => {
    target.reply(['Goodbye!']);
    const stream = await client.responses.create(
      elevenLabsTurn(target.model, [
        { role: 'assistant', content: 'Hi! Show me something.' },
        { role: 'user', content: 'Bye' },
        { type: 'function_call', call_id: 'call_prev', name: 'end_call', arguments: '{"reason":"bye"}' },
        { type: 'function_call_output', call_id: 'call_prev', output: 'ok' },
      ]),
    );
    let text = '';
    for await (const e of stream) if (e.type === 'response.output_text.delta') text += e.delta;
    expect(text).toBe('Goodbye!');
    if (target === anthropicTarget) {
      // Anthropic opens with a user turn (the provider adds one before the greeting); the user
      // turn carries the session image; the call and its result are tool_use / tool_result.
      expect(target.history()).toEqual([
        'user:text',
        'assistant:text',
        'user:text,image',
        'assistant:tool_use',
        'user:tool_result',
      ]);
    } else {
      expect(target.history()).toEqual(['system', 'assistant', 'user', 'assistant+1calls', 'tool']);
    }
  });

  test('not streamed: one response object with output_text, the function call and usage', async () => {
    target.reply(['Plain', ' answer.'], { id: 'call_2', name: 'end_call', args: ['{}'] });
    const res = await client.responses.create({
      ...elevenLabsTurn(target.model, 'hello'),
      stream: false,
    } as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming);
    expect(res.object).toBe('response');
    expect(res.id).toMatch(/^resp_/);
    expect(res.status).toBe('completed');
    expect(res.output_text).toBe('Plain answer.');
    expect(res.output[1]).toMatchObject({ type: 'function_call', call_id: 'call_2', name: 'end_call' });
    expect(res.usage?.input_tokens).toBeGreaterThan(0);
    expect(res.instructions).toBe('You are a voice agent that can see.');
    expect(target.images()).toHaveLength(1);
  });

  test('responses.stream() accumulates the final response', async () => {
    target.reply(['Streamed', ' helper.']);
    const stream = client.responses.stream({
      model: target.model,
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }] }],
      instructions: 'Be brief.',
    });
    const final = await stream.finalResponse();
    expect(final.output_text).toBe('Streamed helper.');
    expect(final.status).toBe('completed');
  });
});

test('an image sent in the input reaches the provider as an image part', async () => {
  openai.replyWith(['ok']);
  const url = `data:image/jpeg;base64,${(
    await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } })
      .jpeg()
      .toBuffer()
  ).toString('base64')}`;
  await client.responses.create({
    model: 'via-openai',
    input: [
      {
        role: 'user',
        content: [
          { type: 'input_text', text: 'and this?' },
          { type: 'input_image', image_url: url, detail: 'low' },
        ],
      },
    ],
  });
  const body = openai.requests.at(-1)!.body as { messages: OpenAIMsg[] };
  const parts = body.messages.at(-1)!.content as { type: string }[];
  expect(parts.map((p) => p.type)).toEqual(['text', 'image_url']);
});

describe('errors before the stream are OpenAI error objects', () => {
  test('previous_response_id: 400 naming the field', async () => {
    const err = await client.responses
      .create({ model: 'via-openai', input: 'hi', previous_response_id: 'resp_123' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('previous_response_id');
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('unsupported_parameter');
  });

  test('a wrong key: 401; an unknown model: 404 model_not_found', async () => {
    const bad = new OpenAI({ apiKey: 'nope', baseURL: `${server.url}/v1`, maxRetries: 0 });
    await expect(bad.responses.create({ model: 'via-openai', input: 'hi' })).rejects.toBeInstanceOf(
      OpenAI.AuthenticationError,
    );
    const err = await client.responses.create({ model: 'nobody', input: 'hi' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
  });

  test('POST /responses (no /v1) is served too', async () => {
    openai.replyWith(['base']);
    const res = await fetch(`${server.url}/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'via-openai', input: 'hi' }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { output_text: string }).output_text).toBe('base');
  });
});

test('an upstream that fails mid-answer ends the stream with response.failed, and the SSE is named', async () => {
  // The first chunks of an answer, then the connection drops.
  openai.setDefault({ kind: 'cut', events: openaiChunks({ text: ['partial', ' answer'] }).slice(0, 2) });
  const res = await fetch(`${server.url}/v1/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'via-openai', input: 'hi', stream: true }),
  });
  expect(res.status).toBe(200);
  const text = await res.text();
  const names = [...text.matchAll(/^event: (.+)$/gm)].map((m) => m[1]);
  expect(names.at(-1)).toBe('response.failed');
  expect(names).toContain('response.output_text.delta');
  const last = JSON.parse(text.trim().split('\n').at(-1)!.slice('data: '.length));
  expect(last.response.status).toBe('failed');
  expect(last.response.error.message).toEqual(expect.any(String));
  openai.replyWith(['ok']);
});

test('failover through this door: OpenAI failing before the first byte, Anthropic answers the turn', async () => {
  openai.setDefault(openaiError(503, 'overloaded'));
  anthropic.replyWith(['From', ' the fallback.']);
  const before = openai.requests.length;
  try {
    const stream = client.responses.stream({ model: 'failover', input: 'hi' });
    const final = await stream.finalResponse();
    expect(final.output_text).toBe('From the fallback.');
    expect(final.model).toBe('failover');
    // The primary was tried first.
    expect(openai.requests.length).toBeGreaterThan(before);
  } finally {
    openai.replyWith(['ok']);
  }
});

test('buffer words through this door: the first text delta, in the same message as the answer', async () => {
  openai.replyWith(['Let me', ' look.']);
  const events: OpenAI.Responses.ResponseStreamEvent[] = [];
  for await (const e of await client.responses.create({ model: 'buffered', input: 'hi', stream: true }))
    events.push(e);
  const deltas = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : []));
  expect(deltas).toEqual(['... ', 'Let me', ' look.']);
  const done = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
  expect(done.response.output).toHaveLength(1);
  expect(done.response.output_text).toBe('... Let me look.');
});
