// Replays OpenAI-format stream fixtures (test/fixtures/openai: OpenAI itself, a DeepSeek-style
// compatible server, Gemini's compatible endpoint) through the stream transform and pins the
// exact StreamEvent sequence; then the same bytes through the official SDK and a loopback server.
import OpenAI from 'openai';
import { UpstreamError } from '../../../../shared/errors';
import { openaiChunksToEvents } from '../../../../shared/providers/openai/stream';
import type { StreamEvent } from '../../../../shared/providers/types';
import { startScriptedServer } from '../../../fakes/scripted-server';
import {
  argumentsByTool,
  collect,
  collectUntilError,
  fixtureText,
  openaiFixtureChunks,
  replay,
} from '../sse-fixture';

const run = (name: string) => collect(openaiChunksToEvents(replay(openaiFixtureChunks(name))));

test("text with include_usage: the role chunk's empty content yields nothing; finish, then usage with cached tokens", async () => {
  expect(await run('text-usage')).toEqual([
    { type: 'text', text: 'I can see' },
    { type: 'text', text: ' a red bicycle' },
    { type: 'text', text: ' leaning on a wall.' },
    { type: 'finish', reason: 'stop' },
    {
      type: 'usage',
      usage: { prompt_tokens: 2268, completion_tokens: 14, total_tokens: 2282, cached_tokens: 1792 },
    },
  ]);
});

test('parallel tool calls: each index starts with id and name, then its argument fragments; empty ones dropped', async () => {
  const events = await run('tool-calls-parallel');
  expect(events.filter((e) => e.type === 'tool_call' && e.id !== undefined)).toEqual([
    { type: 'tool_call', index: 0, id: 'call_Qm7xN2bV9kL4tR1sW8yZ3pHd', name: 'language_detection' },
    { type: 'tool_call', index: 1, id: 'call_Hk2pV8nT5qW1mX7rB4yL9cJs', name: 'get_weather' },
  ]);
  const args = argumentsByTool(events);
  expect(JSON.parse(args.get(0)!)).toEqual({ reason: 'user spoke French', language: 'fr' });
  expect(JSON.parse(args.get(1)!)).toEqual({ location: 'Paris' });
  expect(events.some((e) => e.type === 'tool_call' && e.arguments === '')).toBe(false);
  expect(events.slice(-2)).toEqual([
    { type: 'finish', reason: 'tool_calls' },
    {
      type: 'usage',
      usage: { prompt_tokens: 512, completion_tokens: 41, total_tokens: 553, cached_tokens: 0 },
    },
  ]);
});

test('a compatible server: reasoning_content becomes reasoning, nulls are skipped, usage rides on the finish chunk', async () => {
  expect(await run('reasoning-compatible')).toEqual([
    { type: 'reasoning', text: 'The user asks' },
    { type: 'reasoning', text: ' what is in the photo.' },
    { type: 'text', text: 'A cat' },
    { type: 'text', text: ' on a sofa.' },
    { type: 'finish', reason: 'stop' },
    {
      type: 'usage',
      usage: { prompt_tokens: 30, completion_tokens: 22, total_tokens: 52, cached_tokens: 0 },
    },
  ]);
});

test("Gemini's compatible endpoint: role on every chunk, finish and usage together, no cache field", async () => {
  expect(await run('gemini-finish-with-usage')).toEqual([
    { type: 'text', text: 'A bicycle' },
    { type: 'text', text: ' by a wall.' },
    { type: 'finish', reason: 'stop' },
    { type: 'usage', usage: { prompt_tokens: 1290, completion_tokens: 6, total_tokens: 1296 } },
  ]);
});

test('finish_reason length maps to length', async () => {
  expect((await run('max-tokens')).at(-1)).toEqual({ type: 'finish', reason: 'length' });
});

test('a stream that ends without a finish_reason is a truncated answer, after what it did send', async () => {
  const { items, error } = await collectUntilError(
    openaiChunksToEvents(replay(openaiFixtureChunks('cut-before-finish')), 'gemini'),
  );
  expect(items).toEqual([
    { type: 'text', text: 'I can' },
    { type: 'text', text: ' see a' },
  ]);
  expect(error).toBeInstanceOf(UpstreamError);
  expect(error).toMatchObject({ errorClass: 'truncated', retryable: true, code: 'upstream_truncated' });
  expect((error as UpstreamError).message).toContain('gemini');
});

test('no chunk at all is left to the caller (an empty response), not called truncated', async () => {
  expect(await collect(openaiChunksToEvents(replay([])))).toEqual([]);
});

test('legacy function_call and unknown finish reasons', async () => {
  const [chunk] = openaiFixtureChunks('max-tokens').slice(-1);
  const withReason = (reason: string) => ({
    ...chunk!,
    choices: [{ ...chunk!.choices[0]!, finish_reason: reason as 'stop' }],
  });
  const finish = async (reason: string) =>
    (await collect(openaiChunksToEvents(replay([withReason(reason)])))).at(-1);
  expect(await finish('function_call')).toEqual({ type: 'finish', reason: 'tool_calls' });
  expect(await finish('content_filter')).toEqual({ type: 'finish', reason: 'content_filter' });
  expect(await finish('something_new')).toEqual({ type: 'finish', reason: 'stop' });
});

describe('through the official SDK and a loopback server', () => {
  async function viaSdk(name: string, splitEvery?: number): Promise<StreamEvent[]> {
    const server = await startScriptedServer({
      paths: ['/v1/chat/completions'],
      default: { kind: 'sse', events: [fixtureText(name, 'openai')], ...(splitEvery ? { splitEvery } : {}) },
    });
    try {
      const client = new OpenAI({ apiKey: 'k', baseURL: `${server.url}/v1`, maxRetries: 0 });
      const stream = await client.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      });
      return await collect(openaiChunksToEvents(stream));
    } finally {
      await server.close();
    }
  }

  test.each(['text-usage', 'tool-calls-parallel', 'reasoning-compatible', 'gemini-finish-with-usage'])(
    '%s: the same events as the replay, with JSON split across packets',
    async (name) => {
      expect(await viaSdk(name, 7)).toEqual(await run(name));
    },
  );
});
