// The generate_image tool in voice turns, end to end through the whole local product (dev server,
// emulators) with the official `openai` client as ElevenLabs' stand-in and the fake OpenAI
// upstream as the model: ask, estimate, confirm by voice, queued, ready, the next turn sees the
// image, an edit of it; confirm by button; mixed tool calls; the stream well-formed in faults.
import OpenAI from 'openai';
import { MAKE_DEV_DEFAULTS } from '../../../infra/local/dev-app';
import { backgroundSettled } from '../../../shared/background';
import type { ChatRequest } from '../../../shared/openai/schema';
import { type FakeOpenAIServer, openaiReply, startOpenAIServer } from '../../fakes/openai-server';
import { createBrowserSession, type RunningDevServer, startDevServer } from '../../helpers/dev-server';
import { catalogEntry, createPngGenerator, type PngGenerator } from '../../helpers/png-generator';

const ORIGIN = 'http://127.0.0.1:8787';
let upstream: FakeOpenAIServer;
let server: RunningDevServer;
let generator: PngGenerator;
let client: OpenAI;

beforeAll(async () => {
  upstream = await startOpenAIServer();
  generator = createPngGenerator([
    catalogEntry({ id: 'cheap:flux-schnell:medium', priceUsd: 0.003 }),
    catalogEntry({ id: 'openai:gpt-image-1:high', quality: 'high', priceUsd: 0.167 }),
  ]);
  server = await startDevServer({
    env: {
      PORT: '8787',
      OPENAI_API_KEY: 'sk-fake',
      OPENAI_BASE_URL: `${upstream.url}/v1`,
      IMAGE_GENERATION: 'true',
      IMAGE_MODERATION: 'off',
      IMAGE_LIMIT_PER_USER_PER_HOUR: '100',
    },
    imageGeneration: { generator },
  });
  client = new OpenAI({ apiKey: 'none', baseURL: `${server.url}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await server.close();
  await upstream.close();
});
beforeEach(() => {
  upstream.requests.length = 0;
});

type Msg = OpenAI.Chat.Completions.ChatCompletionMessageParam;

/** One ElevenLabs-shaped turn (to the keyed server and gpt-4o unless told otherwise); returns what the client saw. */
async function turn(
  sessionId: string | undefined,
  messages: Msg[],
  tools?: OpenAI.Chat.Completions.ChatCompletionTool[],
  { via = client, model = 'gpt-4o' }: { via?: OpenAI; model?: string } = {},
) {
  const stream = await via.chat.completions.create({
    model,
    stream: true,
    max_tokens: -1,
    messages: [{ role: 'system', content: 'You are a helpful voice agent.' }, ...messages],
    ...(tools ? { tools } : {}),
    // ElevenLabs' own fields, sent as the body carries them.
    ...({
      user_id: 'caller-1',
      ...(sessionId ? { elevenlabs_extra_body: { session_id: sessionId } } : {}),
    } as object),
  });
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
  const finishes = chunks.map((c) => c.choices[0]?.finish_reason).filter((f) => f);
  const toolCalls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
  expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  expect(chunks.filter((c) => c.choices[0]?.delta.role === 'assistant')).toHaveLength(1);
  expect(finishes).toHaveLength(1);
  return { text, finish: finishes[0], toolCalls };
}

const bodies = () => upstream.requests.map((r) => r.body as ChatRequest);
const toolResult = (req: ChatRequest) => {
  const tool = req.messages.filter((m) => m.role === 'tool').at(-1);
  return JSON.parse(String(tool?.content)) as Record<string, unknown>;
};
const lastUserText = (req: ChatRequest) => {
  const user = req.messages.filter((m) => m.role === 'user').at(-1)!;
  return typeof user.content === 'string'
    ? user.content
    : user.content.map((p) => (p.type === 'text' ? p.text : `[${p.type}]`)).join('|');
};
const callTool = (id: string, args: Record<string, unknown>) =>
  openaiReply({ toolCalls: [{ id, name: 'generate_image', arguments: JSON.stringify(args) }] });

test('ask, estimate, confirm by voice, queued, ready, the next turn sees it, an edit of it', async () => {
  const { sessionId } = await createBrowserSession(server.url, ORIGIN);
  const history: Msg[] = [{ role: 'user', content: 'Draw me a sunset over Paris, high quality.' }];

  // Turn 1: text first (streamed at once), then the tool call; the server answers with the estimate.
  upstream.enqueue(
    openaiReply({
      text: ['Sure, ', 'let me check. '],
      toolCalls: [
        {
          id: 'call_a',
          name: 'generate_image',
          arguments: ['{"prompt":"a sunset over ', 'Paris","quality":"high"}'],
        },
      ],
    }),
    openaiReply({ text: ['That is about 17 cents with GPT Image. ', 'Shall I?'] }),
  );
  const t1 = await turn(sessionId, history);
  expect(t1).toMatchObject({
    text: 'Sure, let me check. That is about 17 cents with GPT Image. Shall I?',
    finish: 'stop',
    toolCalls: [],
  });
  const [offered, continued] = bodies();
  expect(offered!.tools?.map((t) => t.function.name)).toEqual(['generate_image']);
  expect(continued!.messages.slice(-2).map((m) => m.role)).toEqual(['assistant', 'tool']);
  const estimate = toolResult(continued!);
  expect(estimate).toMatchObject({ status: 'awaiting_confirmation', estimate_usd: 0.167 });
  expect(String(estimate.say)).toContain('confirm=true');
  const gid = String(estimate.generation_id);
  expect(generator.calls).toHaveLength(0);

  // Turn 2: the user says yes; the model confirms by calling the tool again.
  history.push({ role: 'assistant', content: t1.text }, { role: 'user', content: 'Yes please.' });
  upstream.requests.length = 0;
  upstream.enqueue(
    callTool('call_b', { confirm: true, generation_id: gid }),
    openaiReply({ text: ['Drawing it now.'] }),
  );
  const t2 = await turn(sessionId, history);
  expect(t2.text).toBe('Drawing it now.');
  // This turn's request noted the waiting generation.
  expect(lastUserText(bodies()[0]!)).toContain(
    `${gid} "a sunset over Paris": waiting for the user to confirm`,
  );
  expect(toolResult(bodies()[1]!)).toMatchObject({ generation_id: gid, status: 'queued' });
  await backgroundSettled();
  expect(generator.calls).toHaveLength(1);

  // Turn 3: the image is in the context, with the note saying it is ready.
  history.push({ role: 'assistant', content: t2.text }, { role: 'user', content: 'What did you draw?' });
  upstream.requests.length = 0;
  upstream.enqueue(openaiReply({ text: ['A sunset over Paris.'] }));
  await turn(sessionId, history);
  const seen = bodies()[0]!;
  const note = lastUserText(seen);
  expect(note).toMatch(new RegExp(`${gid} "a sunset over Paris": ready, image img_`));
  const images = seen.messages.flatMap((m) =>
    m.role === 'user' && typeof m.content !== 'string' ? m.content.filter((p) => p.type === 'image_url') : [],
  );
  expect(images).toHaveLength(1);
  expect(JSON.stringify(images[0])).toContain('data:image/jpeg;base64,');

  // Turn 4: an edit of the latest image, cheap enough to start at once.
  history.push(
    { role: 'assistant', content: 'A sunset over Paris.' },
    { role: 'user', content: 'Make the sky redder.' },
  );
  upstream.requests.length = 0;
  upstream.enqueue(
    callTool('call_c', { prompt: 'make the sky redder', edit_image_id: 'latest' }),
    openaiReply({ text: ['On it.'] }),
  );
  await turn(sessionId, history);
  expect(toolResult(bodies()[1]!)).toMatchObject({ status: 'queued', estimate_usd: 0.003 });
  await backgroundSettled();
  expect(generator.calls).toHaveLength(2);
  expect(generator.calls[1]!.request.source?.mimeType).toBe('image/jpeg');
});

test('confirm by button: the browser confirms what the voice turn estimated', async () => {
  const session = await createBrowserSession(server.url, ORIGIN);
  upstream.enqueue(
    callTool('call_d', { prompt: 'a castle', quality: 'high' }),
    openaiReply({ text: ['About 17 cents; confirm on screen.'] }),
  );
  await turn(session.sessionId, [{ role: 'user', content: 'Draw a castle.' }]);
  const gid = String(toolResult(bodies()[1]!).generation_id);
  const before = generator.calls.length;
  const res = await fetch(`${server.url}/sessions/${session.sessionId}/generations/${gid}/confirm`, {
    method: 'POST',
    headers: { origin: ORIGIN, 'x-session-secret': session.sessionSecret },
  });
  expect(res.status).toBe(200);
  await backgroundSettled();
  expect(generator.calls.length - before).toBe(1);
  const got = await fetch(`${server.url}/sessions/${session.sessionId}/generations/${gid}`, {
    headers: { origin: ORIGIN, 'x-session-secret': session.sessionSecret },
  });
  expect(await got.json()).toMatchObject({ status: 'ready', costUsd: 0.167 });
});

test('mixed: generate_image handled, the agent tool forwarded with finish_reason tool_calls, no second call', async () => {
  const { sessionId } = await createBrowserSession(server.url, ORIGIN);
  upstream.enqueue(
    openaiReply({
      text: ['Okay. '],
      toolCalls: [
        { id: 'call_e', name: 'generate_image', arguments: '{"prompt":"a cat"}' },
        { id: 'call_f', name: 'end_call', arguments: '{"reason":"done"}' },
      ],
    }),
  );
  const agentTool = {
    type: 'function' as const,
    function: { name: 'end_call', parameters: { type: 'object' } },
  };
  const t = await turn(sessionId, [{ role: 'user', content: 'Draw a cat and hang up.' }], [agentTool]);
  expect(t.text).toBe('Okay. ');
  expect(t.finish).toBe('tool_calls');
  expect(new Set(t.toolCalls.map((c) => c.index))).toEqual(new Set([0]));
  expect(t.toolCalls.map((c) => c.function?.name).filter((n) => n)).toEqual(['end_call']);
  expect(t.toolCalls.map((c) => c.function?.arguments ?? '').join('')).toBe('{"reason":"done"}');
  expect(upstream.requests).toHaveLength(1);
  // The agent's tool passed through unchanged, ours added after it.
  expect(bodies()[0]!.tools?.map((x) => x.function.name)).toEqual(['end_call', 'generate_image']);
  // Ours was handled all the same: the generation exists (auto-approved and run).
  await backgroundSettled();
  expect(generator.calls.at(-1)!.request.prompt).toBe('a cat');
});

test('a model that keeps calling the tool is cut off after 3 continuations, the stream still well-formed', async () => {
  const { sessionId } = await createBrowserSession(server.url, ORIGIN);
  const looping = callTool('call_loop', { generation_id: 'gen_AAAAAAAAAAAAAAAAAAAAAA' });
  upstream.enqueue(looping, looping, looping, looping);
  const t = await turn(sessionId, [{ role: 'user', content: 'status?' }]);
  expect(t).toMatchObject({ finish: 'stop', toolCalls: [] });
  expect(upstream.requests).toHaveLength(4);
  expect(toolResult(bodies()[3]!)).toMatchObject({ status: 'refused', code: 'generation_not_found' });
});

test('a turn without a session is not offered the tool; the agent tools pass through alone', async () => {
  upstream.enqueue(openaiReply({ text: ['Hi.'] }));
  await turn(undefined, [{ role: 'user', content: 'Hello' }]);
  expect(bodies()[0]!.tools).toBeUndefined();
});

test('faults keep the stream well-formed: bad arguments, a refusal, the continuation failing', async () => {
  const { sessionId } = await createBrowserSession(server.url, ORIGIN);
  // Bad arguments: a tool result the model can speak, not a broken turn.
  upstream.enqueue(
    openaiReply({ toolCalls: [{ id: 'call_g', name: 'generate_image', arguments: '{"prompt": 42' }] }),
    openaiReply({ text: ['Sorry, try again.'] }),
  );
  expect((await turn(sessionId, [{ role: 'user', content: 'x' }])).text).toBe('Sorry, try again.');
  expect(toolResult(bodies()[1]!)).toMatchObject({ status: 'error', code: 'invalid_arguments' });

  // A limit refusal (edit of an image that is not there) is a clear result too.
  upstream.requests.length = 0;
  upstream.enqueue(
    callTool('call_h', { prompt: 'x', edit_image_id: 'img_AAAAAAAAAAAAAAAAAAAAAA' }),
    openaiReply({ text: ['No such image.'] }),
  );
  await turn(sessionId, [{ role: 'user', content: 'edit it' }]);
  expect(toolResult(bodies()[1]!)).toMatchObject({ status: 'refused', code: 'image_not_found' });

  // The continuation fails after text was streamed: the stream ends with an error event, then closes.
  upstream.requests.length = 0;
  upstream.enqueue(
    openaiReply({
      text: ['One moment. '],
      toolCalls: [{ id: 'call_i', name: 'generate_image', arguments: '{"prompt":"a dog"}' }],
    }),
    {
      kind: 'json',
      status: 400,
      body: { error: { message: 'bad', type: 'invalid_request_error', param: null, code: null } },
    },
  );
  const res = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'gpt-4o',
      stream: true,
      messages: [{ role: 'user', content: 'a dog' }],
      elevenlabs_extra_body: { session_id: sessionId },
    }),
  });
  const raw = await res.text();
  expect(res.status).toBe(200);
  expect(raw).toContain('One moment. ');
  const frames = raw.split('\n\n').filter((f) => f.startsWith('data: '));
  expect(frames.at(-1)).toMatch(/^data: \{"error":/);
  await backgroundSettled();
});

test('through the Responses door: the same tool loop, one response with one completed event and the agent never sees our tool', async () => {
  const { sessionId } = await createBrowserSession(server.url, ORIGIN);
  upstream.enqueue(
    openaiReply({
      text: ['One moment. '],
      toolCalls: [{ id: 'call_r', name: 'generate_image', arguments: '{"prompt":"a lighthouse"}' }],
    }),
    openaiReply({ text: ['Drawing a lighthouse now.'] }),
  );
  const before = generator.calls.length;
  const stream = await client.responses.create({
    model: 'gpt-4o',
    stream: true,
    max_output_tokens: -1,
    instructions: 'You are a helpful voice agent.',
    input: [{ role: 'user', content: 'Draw me a lighthouse.' }],
    tools: [
      {
        type: 'function',
        name: 'end_call',
        description: 'Ends the call.',
        parameters: { type: 'object', properties: {} },
        strict: false,
      },
    ],
    ...({ user_id: 'caller-1', elevenlabs_extra_body: { session_id: sessionId } } as object),
  });
  const events: OpenAI.Responses.ResponseStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  const completed = events.filter((e) => e.type === 'response.completed');
  expect(completed).toHaveLength(1);
  expect(events.filter((e) => e.type === 'response.created')).toHaveLength(1);
  const response = (completed[0] as OpenAI.Responses.ResponseCompletedEvent).response;
  // Text before and after our tool, one message; our tool call is not an output item.
  expect(response.output_text).toBe('One moment. Drawing a lighthouse now.');
  expect(response.output.filter((o) => o.type === 'function_call')).toHaveLength(0);
  // The model was offered both tools, and called a second time with our tool's result.
  const [offered, continued] = bodies();
  expect(offered!.tools?.map((t) => t.function.name).sort()).toEqual(['end_call', 'generate_image']);
  expect(toolResult(continued!)).toMatchObject({ status: 'queued' });
  await backgroundSettled();
  expect(generator.calls.length - before).toBe(1);
});

test('make dev with no key: the tool is offered, the echo model calls it, echo draws, the next turn sees it', async () => {
  // What `make dev` starts with an empty shell: no provider key, its defaults.
  const local = await startDevServer({ env: { ...MAKE_DEV_DEFAULTS, PORT: '8787' } });
  try {
    const via = new OpenAI({ apiKey: 'none', baseURL: `${local.url}/v1`, maxRetries: 0 });
    const session = await createBrowserSession(local.url, ORIGIN);
    const t1 = await turn(
      session.sessionId,
      [{ role: 'user', content: 'Draw a red fox in the snow.' }],
      undefined,
      { via },
    );
    // The continuation after the tool: echo reads the tool's answer (free, so queued at once).
    expect(t1).toMatchObject({ finish: 'stop', toolCalls: [] });
    expect(t1.text).toContain('Tools: generate_image.');
    expect(t1.text).toContain('"status":"queued"');
    expect(t1.text).toContain('echo-image (echo)');
    await backgroundSettled();

    const listed = await fetch(`${local.url}/sessions/${session.sessionId}`, {
      headers: { origin: ORIGIN, 'x-session-secret': session.sessionSecret },
    });
    const { generations } = (await listed.json()) as { generations: Record<string, unknown>[] };
    expect(generations).toMatchObject([{ status: 'ready', provider: 'echo', costUsd: 0 }]);

    const t2 = await turn(
      session.sessionId,
      [
        { role: 'user', content: 'Draw a red fox in the snow.' },
        { role: 'assistant', content: 'Drawing it now.' },
        { role: 'user', content: 'What did you draw?' },
      ],
      undefined,
      { via },
    );
    expect(t2.text).toMatch(/Images: 1 \(#1 in message \d+: image\/jpeg inline, \d+ bytes\)/);
    expect(t2.text).toMatch(/"Draw a red fox in the snow\.": ready, image img_/);
  } finally {
    await local.close();
  }
});

describe('MODEL_ROUTES imageGeneration overrides IMAGE_GENERATION for the tool offer', () => {
  const routes = (name: string, imageGeneration: boolean) =>
    JSON.stringify({ [name]: { targets: ['openai:gpt-4o'], imageGeneration }, '*': ['openai:gpt-4o'] });
  const startWith = (globally: string, modelRoutes: string) =>
    startDevServer({
      env: {
        PORT: '8787',
        OPENAI_API_KEY: 'sk-fake',
        OPENAI_BASE_URL: `${upstream.url}/v1`,
        IMAGE_GENERATION: globally,
        IMAGE_MODERATION: 'off',
        IMAGE_LIMIT_PER_USER_PER_HOUR: '100',
        MODEL_ROUTES: modelRoutes,
      },
      imageGeneration: { generator },
    });

  test('off globally, on for one route: that route offers and answers the tool, the others do not', async () => {
    const local = await startWith('false', routes('drawing', true));
    try {
      const via = new OpenAI({ apiKey: 'none', baseURL: `${local.url}/v1`, maxRetries: 0 });
      const session = await createBrowserSession(local.url, ORIGIN);
      upstream.enqueue(callTool('call_r1', { prompt: 'a lighthouse' }), openaiReply({ text: ['Drawing.'] }));
      const t = await turn(session.sessionId, [{ role: 'user', content: 'Draw a lighthouse.' }], undefined, {
        via,
        model: 'drawing',
      });
      expect(t.text).toBe('Drawing.');
      expect(bodies()[0]!.tools?.map((x) => x.function.name)).toEqual(['generate_image']);
      expect(toolResult(bodies()[1]!)).toMatchObject({ status: 'queued', estimate_usd: 0.003 });
      await backgroundSettled();

      upstream.requests.length = 0;
      upstream.enqueue(openaiReply({ text: ['Hi.'] }));
      await turn(session.sessionId, [{ role: 'user', content: 'Hello' }], undefined, {
        via,
        model: 'gpt-4o',
      });
      expect(bodies()[0]!.tools).toBeUndefined();
      // The browser door follows IMAGE_GENERATION alone: off, its calls are not there.
      const res = await fetch(`${local.url}/sessions/${session.sessionId}/generations`, {
        method: 'POST',
        headers: {
          origin: ORIGIN,
          'x-session-secret': session.sessionSecret,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ prompt: 'a lighthouse' }),
      });
      expect(res.status).toBe(404);
    } finally {
      await local.close();
    }
  });

  test('on globally, off for one route: that route is not offered the tool (nor the note), the others are', async () => {
    const local = await startWith('true', routes('plain', false));
    try {
      const via = new OpenAI({ apiKey: 'none', baseURL: `${local.url}/v1`, maxRetries: 0 });
      const session = await createBrowserSession(local.url, ORIGIN);
      upstream.enqueue(openaiReply({ text: ['Plain.'] }), openaiReply({ text: ['Offered.'] }));
      await turn(session.sessionId, [{ role: 'user', content: 'Hello' }], undefined, { via, model: 'plain' });
      await turn(session.sessionId, [{ role: 'user', content: 'Hello' }], undefined, {
        via,
        model: 'gpt-4o',
      });
      const [plain, offered] = bodies();
      expect(plain!.tools).toBeUndefined();
      expect(offered!.tools?.map((x) => x.function.name)).toEqual(['generate_image']);
    } finally {
      await local.close();
    }
  });
});
