// Replays recorded Anthropic SSE fixtures through the stream translator and pins the exact
// StreamEvent sequence; each gateway bug from protocol.md section 3 has a test named for it.
import Anthropic from '@anthropic-ai/sdk';
import { UpstreamError } from '../../../../shared/errors';
import { anthropicStreamToEvents } from '../../../../shared/providers/anthropic/stream';
import type { StreamEvent } from '../../../../shared/providers/types';
import { startScriptedServer } from '../../../fakes/scripted-server';
import {
  argumentsByTool,
  collect,
  collectUntilError,
  fixtureEvents,
  fixtureText,
  replay,
} from '../sse-fixture';

const run = (name: string) => collect(anthropicStreamToEvents(replay(fixtureEvents(name))));

test('text: deltas in order, then finish and usage (cache reads counted as prompt tokens)', async () => {
  expect(await run('text')).toEqual([
    { type: 'text', text: 'I can see' },
    { type: 'text', text: ' a red bicycle' },
    { type: 'text', text: ' leaning on a wall.' },
    { type: 'finish', reason: 'stop' },
    {
      type: 'usage',
      usage: { prompt_tokens: 2268, completion_tokens: 14, total_tokens: 2282, cached_tokens: 1856 },
    },
  ]);
});

test('one tool: id and name first, then the argument fragments; empty fragments dropped', async () => {
  expect(await run('tool-use')).toEqual([
    { type: 'text', text: 'Let me check the weather.' },
    { type: 'tool_call', index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather' },
    { type: 'tool_call', index: 0, arguments: '{"location":' },
    { type: 'tool_call', index: 0, arguments: ' "San Fra' },
    { type: 'tool_call', index: 0, arguments: 'ncisco, CA"}' },
    { type: 'finish', reason: 'tool_calls' },
    {
      type: 'usage',
      usage: { prompt_tokens: 472, completion_tokens: 89, total_tokens: 561, cached_tokens: 0 },
    },
  ]);
});

test('regression: tool-call index increases per tool, not per content block', async () => {
  const events = await run('tools-parallel');
  const starts = events.filter((e) => e.type === 'tool_call' && e.id !== undefined);
  expect(starts).toEqual([
    { type: 'tool_call', index: 0, id: 'toolu_01A09q90qw90lq917835lq9', name: 'language_detection' },
    { type: 'tool_call', index: 1, id: 'toolu_01B7Yh2kqkT3nq1L0mP8sXzQ', name: 'get_weather' },
    { type: 'tool_call', index: 2, id: 'toolu_01C3mZp8Rr2Vw6Dq9Xy4Tn1K', name: 'get_time' },
  ]);
  const args = argumentsByTool(events);
  expect(JSON.parse(args.get(0)!)).toEqual({ reason: 'user spoke French', language: 'fr' });
  expect(JSON.parse(args.get(1)!)).toEqual({ location: 'Paris' });
  expect(JSON.parse(args.get(2)!)).toEqual({ tz: 'Europe/Paris' });
  expect(events.at(-2)).toEqual({ type: 'finish', reason: 'tool_calls' });
});

test('regression: a tool with no arguments ends with arguments "{}", not ""', async () => {
  expect(await run('tool-no-args')).toEqual([
    { type: 'text', text: 'Goodbye!' },
    { type: 'tool_call', index: 0, id: 'toolu_01EndCa11NoArgs7h3kP9qQz', name: 'end_call' },
    { type: 'tool_call', index: 0, arguments: '{}' },
    { type: 'finish', reason: 'tool_calls' },
    {
      type: 'usage',
      usage: { prompt_tokens: 655, completion_tokens: 38, total_tokens: 693, cached_tokens: 0 },
    },
  ]);
});

test('regression: a tool that streams no input_json_delta at all also ends with "{}"', async () => {
  const events = fixtureEvents('tool-no-args').filter(
    (e) => !(e.type === 'content_block_delta' && e.delta.type === 'input_json_delta'),
  );
  const out = await collect(anthropicStreamToEvents(replay(events)));
  expect(argumentsByTool(out).get(0)).toBe('{}');
});

test('thinking: thinking deltas become reasoning, the signature is dropped', async () => {
  expect(await run('thinking')).toEqual([
    { type: 'reasoning', text: 'The photo shows a receipt.' },
    { type: 'reasoning', text: ' The total is at the bottom.' },
    { type: 'text', text: 'The total is 42 euros.' },
    { type: 'finish', reason: 'stop' },
    // message_delta without input counts: message_start's (input + cache writes) stand.
    {
      type: 'usage',
      usage: { prompt_tokens: 1296, completion_tokens: 57, total_tokens: 1353, cached_tokens: 0 },
    },
  ]);
});

test('regression: truncated tool arguments are reported as length, not stop', async () => {
  const events = await run('max-tokens');
  expect(argumentsByTool(events).get(0)).toBe('{"text": "The menu lists soup, sal');
  expect(events.filter((e) => e.type === 'finish')).toEqual([{ type: 'finish', reason: 'length' }]);
});

test('an error event mid-stream throws a retryable overloaded UpstreamError after the text already yielded', async () => {
  const { items, error } = await collectUntilError(
    anthropicStreamToEvents(replay(fixtureEvents('error-mid-stream'))),
  );
  expect(items).toEqual([{ type: 'text', text: 'Looking at the' }]);
  expect(error).toBeInstanceOf(UpstreamError);
  expect(error).toMatchObject({ retryable: true, errorClass: 'overloaded', upstreamStatus: 529 });
});

test('a stream that ends without message_stop throws a truncated UpstreamError', async () => {
  const { items, error } = await collectUntilError(
    anthropicStreamToEvents(replay(fixtureEvents('cut-before-stop'))),
  );
  expect(items).toEqual([{ type: 'text', text: 'Half an ans' }]);
  expect(error).toBeInstanceOf(UpstreamError);
  expect(error).toMatchObject({ errorClass: 'truncated', retryable: true });
});

test('finish and usage come once, at message_stop, even when message_delta has no stop_reason', async () => {
  const events = fixtureEvents('text').map((e) =>
    e.type === 'message_delta' ? { ...e, delta: { ...e.delta, stop_reason: null } } : e,
  );
  const out = await collect(anthropicStreamToEvents(replay(events)));
  expect(out.slice(-2).map((e) => e.type)).toEqual(['finish', 'usage']);
  expect(out.at(-2)).toEqual({ type: 'finish', reason: 'stop' });
});

describe('through the real SDK and the fake server', () => {
  async function viaSdk(name: string, splitEvery?: number): Promise<StreamEvent[]> {
    const server = await startScriptedServer({
      default: { kind: 'sse', events: [fixtureText(name)], ...(splitEvery ? { splitEvery } : {}) },
    });
    try {
      const client = new Anthropic({ apiKey: 'k', baseURL: server.url, maxRetries: 0 });
      const stream = await client.messages.create({
        model: 'claude-x',
        max_tokens: 64,
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      });
      return await collect(anthropicStreamToEvents(stream));
    } finally {
      await server.close();
    }
  }

  test('regression: JSON split across network packets (one byte per write) yields the same events', async () => {
    const whole = await run('tools-parallel');
    expect(await viaSdk('tools-parallel', 1)).toEqual(whole);
  });

  test('every fixture that completes gives the same events through the SDK as replayed', async () => {
    for (const name of ['text', 'tool-use', 'tool-no-args', 'thinking', 'max-tokens']) {
      expect(await viaSdk(name)).toEqual(await run(name));
    }
  });
});
