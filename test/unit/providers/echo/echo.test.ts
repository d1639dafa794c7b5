import { loadConfig } from '../../../../shared/config';
import { chatRequestSchema } from '../../../../shared/openai/schema';
import { createEchoProvider, describeRequest, echoImageToolCall } from '../../../../shared/providers/echo';
import type { StreamEvent } from '../../../../shared/providers/types';

const png = `data:image/png;base64,${Buffer.alloc(300, 1).toString('base64')}`;
const request = chatRequestSchema.parse({
  model: 'gpt-4o',
  messages: [
    { role: 'system', content: 'sys' },
    { role: 'assistant', content: 'Hi!' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is this?' },
        { type: 'image_url', image_url: { url: png } },
        { type: 'image_url', image_url: { url: 'https://img.example.com/a.jpg' } },
      ],
    },
  ],
  tools: [{ type: 'function', function: { name: 'end_call' } }],
});

test('describes roles, the last user message, each image with its size, and tools, deterministically', () => {
  expect(describeRequest(request, 'echo')).toBe(
    'Echo (echo): 3 messages (system, assistant, user). Last user message: "What is this?". ' +
      'Images: 2 (#1 in message 2: image/png inline, 300 bytes; #2 in message 2: url img.example.com). Tools: end_call.',
  );
  expect(describeRequest(request, 'echo')).toBe(describeRequest(request, 'echo'));
});

test('streams the description word by word, then finish and usage', async () => {
  const provider = createEchoProvider(loadConfig({}).providers.get('echo')!);
  const events: StreamEvent[] = [];
  for await (const e of provider.stream({ model: 'echo', request, signal: new AbortController().signal }))
    events.push(e);
  const text = events.flatMap((e) => (e.type === 'text' ? [e.text] : [])).join('');
  expect(text).toBe(describeRequest(request, 'echo'));
  expect(events.filter((e) => e.type === 'text').length).toBeGreaterThan(10);
  expect(events.at(-2)).toEqual({ type: 'finish', reason: 'stop' });
  expect(events.at(-1)?.type).toBe('usage');
});

test('is the default only without keys, and is switched off in a deployed stack', () => {
  expect(loadConfig({}).echoFallback).toBe(true);
  expect(loadConfig({ OPENAI_API_KEY: 'k' }).echoFallback).toBe(false);
  expect(
    createEchoProvider(loadConfig({ REQUIRE_CHAT_API_KEY: 'true' }).providers.get('echo')!).configured,
  ).toBe(false);
  expect(
    createEchoProvider(
      loadConfig({ REQUIRE_CHAT_API_KEY: 'true', ALLOW_ECHO: 'true' }).providers.get('echo')!,
    ).configured,
  ).toBe(true);
});

test('calls generate_image only when it is offered and the latest user message starts with draw, paint or sketch', () => {
  const ask = (content: unknown, tools = ['end_call', 'generate_image'], extra: unknown[] = []) =>
    echoImageToolCall(
      chatRequestSchema.parse({
        model: 'gpt-4o',
        messages: [{ role: 'user', content }, ...extra],
        tools: tools.map((name) => ({ type: 'function', function: { name } })),
      }),
    );
  expect(ask('Please draw a red fox.')).toEqual({
    name: 'generate_image',
    arguments: '{"prompt":"Please draw a red fox."}',
  });
  expect(ask([{ type: 'text', text: 'Sketch a cat' }])?.arguments).toBe('{"prompt":"Sketch a cat"}');
  // Not offered, not a request, a note that mentions an image, or the tool already answered.
  expect(ask('Draw a fox', ['end_call'])).toBeUndefined();
  expect(ask('What did you draw?')).toBeUndefined();
  expect(
    ask([
      { type: 'text', text: 'What is this?' },
      { type: 'text', text: 'draw: ready, image img_1' },
    ]),
  ).toBeUndefined();
  expect(
    ask('Draw a fox', undefined, [
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c', type: 'function', function: { name: 'generate_image', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'c', content: '{"status":"queued"}' },
    ]),
  ).toBeUndefined();
});
