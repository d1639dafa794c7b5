// The Vercel AI SDK's OpenAI provider, whose default model speaks the Responses API, as a client
// of /v1/responses: its own request builder and event parser against our door, a fake OpenAI
// upstream behind it (both wires real).
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, jsonSchema, streamText, tool } from 'ai';
import { type FakeOpenAIServer, startOpenAIServer } from '../../fakes/openai-server';
import { type RunningChatServer, startChatServer } from '../../helpers/chat-server';

const KEY = 'chat-key';
let upstream: FakeOpenAIServer;
let server: RunningChatServer;
let model: ReturnType<ReturnType<typeof createOpenAI>>;

beforeAll(async () => {
  upstream = await startOpenAIServer();
  server = await startChatServer({
    OPENAI_API_KEY: 'sk-up',
    OPENAI_BASE_URL: `${upstream.url}/v1`,
    CHAT_API_KEY: KEY,
  });
  model = createOpenAI({ apiKey: KEY, baseURL: `${server.url}/v1` })('gpt-4o');
});
afterAll(async () => {
  await server.close();
  await upstream.close();
});

const endCall = tool({
  description: 'Ends the call',
  inputSchema: jsonSchema<{ reason: string }>({
    type: 'object',
    properties: { reason: { type: 'string' } },
    required: ['reason'],
  }),
});

test('streamText: text deltas, a tool call and usage come through the Responses door', async () => {
  upstream.replyWith({
    text: ['Hello', ' from', ' the door.'],
    toolCalls: [{ id: 'call_9', name: 'end_call', arguments: ['{"reason":', '"bye"}'] }],
    usage: { prompt_tokens: 12, completion_tokens: 6 },
  });
  const result = streamText({
    model,
    system: 'Be brief.',
    prompt: 'Say hello then hang up.',
    tools: { end_call: endCall },
  });
  let text = '';
  for await (const delta of result.textStream) text += delta;
  expect(text).toBe('Hello from the door.');
  const calls = await result.toolCalls;
  expect(calls).toMatchObject([{ toolCallId: 'call_9', toolName: 'end_call', input: { reason: 'bye' } }]);
  const usage = await result.usage;
  expect(usage).toMatchObject({ inputTokens: 12, outputTokens: 6, totalTokens: 18 });
  expect(await result.finishReason).toBe('tool-calls');
  // It did go through the Responses door: the turn reached the upstream as chat with the tool.
  const sent = upstream.requests.at(-1)!.body as { messages: { role: string }[]; tools: unknown[] };
  expect(sent.messages.map((m) => m.role)).toEqual(['system', 'user']);
  expect(sent.tools).toHaveLength(1);
  expect(server.turns.at(-1)).toMatchObject({ status: 200, stream: true, finishReason: 'tool_calls' });
});

test('generateText: the non-streamed response object, and a tool round as history', async () => {
  upstream.replyWith(['Done', '.']);
  const result = await generateText({
    model,
    tools: { end_call: endCall },
    messages: [
      { role: 'user', content: 'Hang up please' },
      {
        role: 'assistant',
        content: [
          { type: 'tool-call', toolCallId: 'call_1', toolName: 'end_call', input: { reason: 'asked' } },
        ],
      },
      {
        role: 'tool',
        content: [
          {
            type: 'tool-result',
            toolCallId: 'call_1',
            toolName: 'end_call',
            output: { type: 'text', value: 'ok' },
          },
        ],
      },
    ],
  });
  expect(result.text).toBe('Done.');
  const sent = upstream.requests.at(-1)!.body as {
    messages: { role: string; tool_calls?: { id: string }[]; tool_call_id?: string }[];
  };
  expect(sent.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
  expect(sent.messages[1]!.tool_calls![0]!.id).toBe('call_1');
  expect(sent.messages[2]!.tool_call_id).toBe('call_1');
  expect(server.turns.at(-1)).toMatchObject({ status: 200, stream: false });
});
