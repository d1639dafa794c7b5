import { ChunkEncoder, CompletionAggregator, newResponseIdentity } from '../../../shared/openai/chunks';
import type { StreamEvent } from '../../../shared/providers/types';

const id = { id: 'chatcmpl-1', created: 1, model: 'm' };

test('role only on the first chunk; tool call start carries id, type, name and empty arguments', () => {
  const enc = new ChunkEncoder(id, false);
  const a = enc.encode({ type: 'tool_call', index: 0, id: 'c1', name: 'f' })!;
  const b = enc.encode({ type: 'tool_call', index: 0, arguments: '{}' })!;
  expect(a.choices[0]!.delta).toEqual({
    role: 'assistant',
    tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'f', arguments: '' } }],
  });
  expect(b.choices[0]!.delta).toEqual({ tool_calls: [{ index: 0, function: { arguments: '{}' } }] });
  const [end] = enc.end();
  expect(end!.choices[0]!.finish_reason).toBe('tool_calls');
});

test('finish and usage are held to the end; usage chunk only when asked', () => {
  const events: StreamEvent[] = [
    { type: 'text', text: 'a' },
    { type: 'finish', reason: 'length' },
    { type: 'usage', usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } },
  ];
  const withUsage = new ChunkEncoder(id, true);
  const without = new ChunkEncoder(id, false);
  for (const e of events) {
    withUsage.encode(e);
    without.encode(e);
  }
  const w = withUsage.end();
  expect(w).toHaveLength(2);
  expect(w[0]!.choices[0]!.finish_reason).toBe('length');
  expect(w[1]).toMatchObject({
    choices: [],
    usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
  });
  expect(without.end()).toHaveLength(1);
});

test('a stream with no events still ends with role and finish_reason stop', () => {
  const [only] = new ChunkEncoder(id, false).end();
  expect(only!.choices[0]).toMatchObject({ delta: { role: 'assistant' }, finish_reason: 'stop' });
});

test('the aggregator joins text, tool-call fragments by index and reasoning', () => {
  const agg = new CompletionAggregator();
  const events: StreamEvent[] = [
    { type: 'reasoning', text: 'th' },
    { type: 'reasoning', text: 'ink' },
    { type: 'tool_call', index: 1, id: 'b', name: 'g' },
    { type: 'tool_call', index: 0, id: 'a', name: 'f' },
    { type: 'tool_call', index: 0, arguments: '{"x"' },
    { type: 'tool_call', index: 0, arguments: ':1}' },
    { type: 'tool_call', index: 1, arguments: '{}' },
  ];
  for (const e of events) agg.add(e);
  const r = agg.result(id);
  expect(r.choices[0]!.message).toMatchObject({
    content: null,
    reasoning_content: 'think',
    tool_calls: [
      { id: 'a', type: 'function', function: { name: 'f', arguments: '{"x":1}' } },
      { id: 'b', type: 'function', function: { name: 'g', arguments: '{}' } },
    ],
  });
  expect(r.choices[0]!.finish_reason).toBe('tool_calls');
  expect(r.usage).toEqual({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
});

test('response ids are unique per response', () => {
  expect(newResponseIdentity('m').id).not.toBe(newResponseIdentity('m').id);
});
