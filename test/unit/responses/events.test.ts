// The Responses stream encoder and aggregator, read back by the official openai client (its
// stream parser and ResponseStream accumulator) from a loopback server replaying the SSE text.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import type { StreamEvent } from '../../../shared/providers/types';
import {
  ResponsesAggregator,
  type ResponsesIdentity,
  ResponsesStreamEncoder,
} from '../../../shared/responses/events';
import type { ResponsesEcho } from '../../../shared/responses/request';

const identity: ResponsesIdentity = { id: 'resp_abc', created: 1, model: 'vision' };
const echo: ResponsesEcho = {
  instructions: 'be brief',
  metadata: { k: 'v' },
  tools: [{ type: 'function', name: 'end_call', parameters: { type: 'object' } }],
  toolChoice: 'auto',
  temperature: null,
  topP: null,
  maxOutputTokens: null,
  parallelToolCalls: true,
  user: undefined,
};

let body = '';
let server: Server;
let client: OpenAI;
beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  client = new OpenAI({ apiKey: 'k', baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function encodeAll(events: StreamEvent[], fail?: boolean): string {
  const enc = new ResponsesStreamEncoder(identity, echo);
  let s = enc.start();
  for (const e of events) s += enc.encode(e);
  s += fail
    ? enc.error({
        error: { message: 'upstream broke', type: 'upstream_error', param: null, code: 'upstream_error' },
      })
    : enc.end();
  return s;
}

async function rawEvents(text: string): Promise<ResponseStreamEvent[]> {
  body = text;
  const out: ResponseStreamEvent[] = [];
  for await (const e of await client.responses.create({ model: 'vision', input: 'hi', stream: true }))
    out.push(e);
  return out;
}

const usage = {
  type: 'usage',
  usage: { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14, cached_tokens: 3 },
} as const;
const textAndTool: StreamEvent[] = [
  { type: 'text', text: 'Hel' },
  { type: 'text', text: 'lo' },
  { type: 'tool_call', index: 0, id: 'call_1', name: 'end_call' },
  { type: 'tool_call', index: 0, arguments: '{"reason":' },
  { type: 'tool_call', index: 0, arguments: '"bye"}' },
  { type: 'tool_call', index: 1, id: 'call_2', name: 'skip_turn' },
  { type: 'finish', reason: 'tool_calls' },
  usage,
];

test('events come in the order OpenAI clients expect, named, numbered from 0', async () => {
  const text = encodeAll(textAndTool);
  // Each SSE event's name line matches its data's type.
  for (const block of text.trim().split('\n\n')) {
    const [ev, data] = block.split('\n');
    expect(ev).toBe(`event: ${JSON.parse(data!.slice('data: '.length)).type}`);
  }
  const events = await rawEvents(text);
  expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
  expect(events.map((e) => e.type)).toEqual([
    'response.created',
    'response.in_progress',
    'response.output_item.added',
    'response.content_part.added',
    'response.output_text.delta',
    'response.output_text.delta',
    'response.output_text.done',
    'response.content_part.done',
    'response.output_item.done',
    'response.output_item.added',
    'response.function_call_arguments.delta',
    'response.function_call_arguments.delta',
    'response.output_item.added',
    'response.function_call_arguments.done',
    'response.output_item.done',
    'response.function_call_arguments.done',
    'response.output_item.done',
    'response.completed',
  ]);
  const done = events.at(-1);
  if (done?.type !== 'response.completed') throw new Error('no completed');
  expect(done.response.usage).toEqual({
    input_tokens: 10,
    input_tokens_details: { cached_tokens: 3, cache_write_tokens: 0 },
    output_tokens: 4,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 14,
  });
});

test('responses.stream() accumulates the text and both function calls (no-argument call gets {})', async () => {
  body = encodeAll(textAndTool);
  const stream = client.responses.stream({ model: 'vision', input: 'hi' });
  const deltas: string[] = [];
  stream.on('response.output_text.delta', (e) => deltas.push(e.delta));
  const final = await stream.finalResponse();
  expect(deltas.join('')).toBe('Hello');
  expect(final.output_text).toBe('Hello');
  expect(final.status).toBe('completed');
  expect(final.output.map((o) => o.type)).toEqual(['message', 'function_call', 'function_call']);
  expect(final.output[1]).toMatchObject({
    call_id: 'call_1',
    name: 'end_call',
    arguments: '{"reason":"bye"}',
  });
  expect(final.output[2]).toMatchObject({ call_id: 'call_2', name: 'skip_turn', arguments: '{}' });
  expect(final.metadata).toEqual({ k: 'v' });
});

test('the non-streamed reply is the same response the stream completes with', async () => {
  const agg = new ResponsesAggregator(identity, echo);
  for (const e of textAndTool) agg.add(e);
  const reply = agg.result();
  body = encodeAll(textAndTool);
  const final = await client.responses.stream({ model: 'vision', input: 'hi' }).finalResponse();
  const { completed_at: _a, ...r } = reply;
  const { completed_at: _b, ...f } = final;
  expect(f).toMatchObject(r);
  expect(agg.finalReason).toBe('tool_calls');
});

test('text after a tool call opens a new message; reasoning is its own item', async () => {
  body = encodeAll([
    { type: 'reasoning', text: 'think' },
    { type: 'tool_call', index: 0, id: 'c', name: 'f', arguments: '{}' },
    { type: 'text', text: 'after' },
  ]);
  const final = await client.responses.stream({ model: 'vision', input: 'hi' }).finalResponse();
  expect(final.output.map((o) => o.type)).toEqual(['reasoning', 'function_call', 'message']);
  expect(final.output[0]).toMatchObject({ content: [{ type: 'reasoning_text', text: 'think' }] });
  expect(final.output_text).toBe('after');
});

test('an answer cut by the token limit ends as response.incomplete', async () => {
  const events = await rawEvents(
    encodeAll([
      { type: 'text', text: 'cut' },
      { type: 'finish', reason: 'length' },
    ]),
  );
  const last = events.at(-1);
  expect(last?.type).toBe('response.incomplete');
  if (last?.type !== 'response.incomplete') return;
  expect(last.response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
  expect(last.response.output).toMatchObject([{ type: 'message', status: 'incomplete' }]);
});

test('a failure mid-answer ends with response.failed carrying the error and the partial output', async () => {
  body = encodeAll([{ type: 'text', text: 'partial' }], true);
  const stream = client.responses.stream({ model: 'vision', input: 'hi' });
  const final = await stream.finalResponse();
  expect(final.status).toBe('failed');
  expect(final.error).toEqual({
    code: 'server_error',
    message: 'upstream broke',
    type: 'upstream_error',
    param: null,
  });
  expect(final.output_text).toBe('partial');
});

test('non-streamed through the client: output_text and usage', async () => {
  const agg = new ResponsesAggregator(identity, echo);
  for (const e of [{ type: 'text', text: 'ok' } as const, usage]) agg.add(e);
  const r = agg.result();
  expect(r).toMatchObject({
    object: 'response',
    status: 'completed',
    output_text: 'ok',
    usage: { total_tokens: 14 },
  });
  expect(r.id).toMatch(/^resp_/);
});
