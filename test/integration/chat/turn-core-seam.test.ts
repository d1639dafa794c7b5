// The turn core's event seam (shared/chat/turn-core.ts): a TurnLoop that spans two upstream calls
// inside one client stream, the shape issue 11's server-side tool takes, seen by the official
// `openai` client as one answer; and a turn whose client leaves during the buffer words.
import OpenAI from 'openai';
import { createChatHandler } from '../../../shared/chat/handler';
import { SINGLE_CALL, type TurnLoop, upstreamEvents } from '../../../shared/chat/turn-core';
import type { TurnRecord } from '../../../shared/chat/turn-record';
import { loadConfig } from '../../../shared/config';
import type { HttpRequest } from '../../../shared/http/types';
import { silentLogger } from '../../../shared/observability/log';
import type { ChatRequest } from '../../../shared/openai/schema';
import { createProviders } from '../../../shared/providers/registry';
import type { StreamEvent } from '../../../shared/providers/types';
import { noBreaker } from '../../../shared/routing/breaker-types';
import { DEFAULT_FALLBACK_SETTINGS } from '../../../shared/routing/fallback';
import { type FakeOpenAIServer, openaiReply, startOpenAIServer } from '../../fakes/openai-server';
import { serveOnLoopback } from '../../helpers/serve';

const SERVER_TOOL = 'server_lookup';

/**
 * A toy server-side tool: offered to the model, and when the model calls it, answered here and
 * the model called again; text streams at once, the tool call and the first finish are held back.
 */
const toolLoop: TurnLoop = {
  begin: (request) => ({
    ...request,
    tools: [
      ...(request.tools ?? []),
      { type: 'function', function: { name: SERVER_TOOL, parameters: { type: 'object' } } },
    ],
  }),
  async *events(leg) {
    const held: StreamEvent[] = [];
    let call: { id: string; args: string } | undefined;
    for await (const event of upstreamEvents(leg.upstream, leg.idleTimeoutMs)) {
      if (event.type === 'tool_call') {
        if (event.name === SERVER_TOOL) call = { id: event.id ?? '', args: '' };
        if (call && event.arguments) call.args += event.arguments;
      } else if (event.type === 'finish' || event.type === 'usage') held.push(event);
      else yield event;
    }
    if (!call) {
      yield* held;
      return;
    }
    const next: ChatRequest = {
      ...leg.request,
      messages: [
        ...leg.request.messages,
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: call.id, type: 'function', function: { name: SERVER_TOOL, arguments: call.args } },
          ],
        },
        { role: 'tool', tool_call_id: call.id, content: 'It is sunny.' },
      ],
    };
    yield* upstreamEvents(await leg.next(next), leg.idleTimeoutMs);
  },
};

let upstream: FakeOpenAIServer;
let served: { url: string; close(): Promise<void> };
const turns: TurnRecord[] = [];

function handlerWith(loop: TurnLoop, routes: string) {
  const config = loadConfig({
    PORT: '0',
    OPENAI_API_KEY: 'sk-fake',
    OPENAI_BASE_URL: `${upstream.url}/v1`,
    MODEL_ROUTES: routes,
  });
  return createChatHandler({
    config,
    providers: createProviders(config, silentLogger),
    breaker: noBreaker,
    fallback: DEFAULT_FALLBACK_SETTINGS,
    log: silentLogger,
    loop,
    onTurnEnd: (r) => turns.push(r),
  });
}

beforeAll(async () => {
  upstream = await startOpenAIServer();
  served = await serveOnLoopback(
    handlerWith(toolLoop, JSON.stringify({ 'gpt-4o': { targets: ['openai:gpt-4o'] } })),
    { maxBodyBytes: 1_000_000 },
  );
});

afterAll(async () => {
  await served.close();
  await upstream.close();
});

beforeEach(() => {
  turns.length = 0;
  upstream.requests.length = 0;
});

test('a loop over two upstream calls reaches the client as one answer: one id, one role, one finish, [DONE]', async () => {
  upstream.enqueue(
    openaiReply({
      text: ['Let me check. '],
      toolCalls: [{ id: 'call_1', name: SERVER_TOOL, arguments: '{}' }],
    }),
    openaiReply({ text: ['It is', ' sunny.'], usage: { prompt_tokens: 30, completion_tokens: 4 } }),
  );
  const client = new OpenAI({ apiKey: 'none', baseURL: `${served.url}/v1`, maxRetries: 0 });
  const stream = await client.chat.completions.create({
    model: 'gpt-4o',
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'Weather?' }],
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);

  expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  expect(chunks.filter((c) => c.choices[0]?.delta.role === 'assistant')).toHaveLength(1);
  const finishes = chunks.map((c) => c.choices[0]?.finish_reason).filter((f) => f);
  expect(finishes).toEqual(['stop']);
  const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
  expect(text).toBe('Let me check. It is sunny.');
  expect(chunks.some((c) => c.choices[0]?.delta.tool_calls)).toBe(false);
  expect(chunks.at(-1)?.usage?.total_tokens).toBe(34);

  // The model was offered the tool, then called again with the call and its result.
  expect(upstream.requests).toHaveLength(2);
  const [first, second] = upstream.requests.map((r) => r.body as ChatRequest);
  expect(first!.tools?.map((t) => t.function.name)).toEqual([SERVER_TOOL]);
  expect(second!.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);

  // One record for the turn: both calls' attempts, the final finish and usage.
  expect(turns).toHaveLength(1);
  expect(turns[0]).toMatchObject({ status: 200, finishReason: 'stop', provider: 'openai' });
  expect(turns[0]!.attempts.map((a) => a.outcome)).toEqual(['ok', 'ok']);
  expect(turns[0]!.usage?.total_tokens).toBe(34);
});

test('a non-streamed turn goes through the same loop', async () => {
  upstream.enqueue(
    openaiReply({ toolCalls: [{ id: 'call_2', name: SERVER_TOOL, arguments: '{}' }] }),
    openaiReply({ text: ['Sunny.'] }),
  );
  const client = new OpenAI({ apiKey: 'none', baseURL: `${served.url}/v1`, maxRetries: 0 });
  const completion = await client.chat.completions.create({
    model: 'gpt-4o',
    messages: [{ role: 'user', content: 'Weather?' }],
  });
  expect(completion.choices[0]?.message.content).toBe('Sunny.');
  expect(completion.choices[0]?.message.tool_calls).toBeUndefined();
  expect(completion.choices[0]?.finish_reason).toBe('stop');
  expect(upstream.requests).toHaveLength(2);
});

test('a client that stops reading during the buffer words ends the turn as a disconnect, once, with no upstream call', async () => {
  const handler = handlerWith(
    SINGLE_CALL,
    JSON.stringify({ 'gpt-4o': { targets: ['openai:gpt-4o'], bufferWords: 'Let me see.' } }),
  );
  const http: HttpRequest = {
    method: 'POST',
    path: '/v1/chat/completions',
    headers: {},
    query: {},
    body: Buffer.from(
      JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
    ),
    sourceIp: '127.0.0.1',
  };
  const res = await handler(http, new AbortController().signal);
  expect(res.status).toBe(200);
  const frames = res.stream![Symbol.asyncIterator]();
  const first = await frames.next();
  expect(first.value).toContain('Let me see.');
  await frames.return?.(undefined);

  expect(turns).toHaveLength(1);
  expect(turns[0]).toMatchObject({ status: 499, error: 'client_disconnected' });
  expect(upstream.requests).toHaveLength(0);
});
