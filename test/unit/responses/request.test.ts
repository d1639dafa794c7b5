// The Responses request -> the core's ChatRequest mapping, and its precise 400s.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findSessionRef } from '../../../shared/context/resolve-session';
import { ApiError } from '../../../shared/errors';
import { parseResponsesRequest } from '../../../shared/responses/request';

function refusal(body: unknown): {
  status: number;
  param: string | null;
  code: string | null;
  message: string;
} {
  try {
    parseResponsesRequest(JSON.stringify(body));
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    const { error } = err.toBody();
    return { status: err.status, param: error.param, code: error.code, message: error.message };
  }
  throw new Error('parsed');
}

test('a string input is one user message; instructions become the system prompt', () => {
  const { request, echo } = parseResponsesRequest(
    JSON.stringify({ model: 'm', input: 'hi', instructions: 'be brief', stream: true }),
  );
  expect(request.messages).toEqual([
    { role: 'system', content: 'be brief' },
    { role: 'user', content: 'hi' },
  ]);
  expect(request.stream).toBe(true);
  expect(echo.instructions).toBe('be brief');
});

test('items: roles, text and image parts, function calls joined to the assistant turn, outputs as tool messages', () => {
  const { request } = parseResponsesRequest(
    JSON.stringify({
      model: 'm',
      input: [
        { role: 'developer', content: [{ type: 'input_text', text: 'dev' }] },
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'look' },
            { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'low' },
          ],
        },
        {
          type: 'message',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'ok', annotations: [] }],
          id: 'msg_1',
          status: 'completed',
        },
        { type: 'function_call', call_id: 'c1', name: 'end_call', arguments: '{}', id: 'fc_1' },
        { type: 'function_call', call_id: 'c2', name: 'skip_turn', arguments: '' },
        { type: 'function_call_output', call_id: 'c1', output: 'done' },
        {
          type: 'function_call_output',
          call_id: 'c2',
          output: [
            { type: 'input_text', text: 'a' },
            { type: 'input_text', text: 'b' },
          ],
        },
        { type: 'reasoning', id: 'rs_1', summary: [] },
        { type: 'function_call', call_id: 'c3', name: 'f', arguments: '{"x":1}' },
      ],
    }),
  );
  expect(request.messages).toEqual([
    { role: 'developer', content: [{ type: 'text', text: 'dev' }] },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'look' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } },
      ],
    },
    {
      role: 'assistant',
      content: [{ type: 'text', text: 'ok' }],
      tool_calls: [
        { id: 'c1', type: 'function', function: { name: 'end_call', arguments: '{}' } },
        { id: 'c2', type: 'function', function: { name: 'skip_turn', arguments: '' } },
      ],
    },
    { role: 'tool', tool_call_id: 'c1', content: 'done' },
    { role: 'tool', tool_call_id: 'c2', content: 'a\nb' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c3', type: 'function', function: { name: 'f', arguments: '{"x":1}' } }],
    },
  ]);
});

test('ElevenLabs shape: flat function tools, max_output_tokens -1 is unset, user_id and extra body kept, unknown fields tolerated', () => {
  const { request, echo } = parseResponsesRequest(
    JSON.stringify({
      model: 'vision',
      stream: true,
      max_output_tokens: -1,
      instructions: 'You are a guide. [session:s_abcdefghijklmnopqrstuv]',
      input: [{ role: 'user', content: 'what do you see?' }],
      tools: [
        {
          type: 'function',
          name: 'end_call',
          description: 'Ends the call',
          parameters: { type: 'object', properties: { reason: { type: 'string' } } },
          strict: false,
        },
      ],
      tool_choice: { type: 'function', name: 'end_call' },
      user_id: 'u1',
      user: 'u2',
      temperature: 0.4,
      top_p: 0.9,
      metadata: { a: 'b', n: 1 },
      store: false,
      elevenlabs_extra_body: { session_id: 'x' },
      some_future_field: { deep: [1] },
    }),
  );
  expect(request.max_completion_tokens).toBeUndefined();
  expect(request.tools).toEqual([
    {
      type: 'function',
      function: {
        name: 'end_call',
        description: 'Ends the call',
        parameters: { type: 'object', properties: { reason: { type: 'string' } } },
        strict: false,
      },
    },
  ]);
  expect(request.tool_choice).toEqual({ type: 'function', function: { name: 'end_call' } });
  expect(request).toMatchObject({
    user_id: 'u1',
    user: 'u2',
    temperature: 0.4,
    top_p: 0.9,
    elevenlabs_extra_body: { session_id: 'x' },
  });
  expect(echo.metadata).toEqual({ a: 'b' });
  expect(echo.maxOutputTokens).toBeNull();
});

test('the session is found the same way as on the chat door (extra body, headers, prompt marker)', () => {
  const sid = 's_abcdefghijklmnopqrstuv';
  const viaBody = parseResponsesRequest(
    JSON.stringify({ model: 'm', input: 'hi', elevenlabs_extra_body: { session_id: sid } }),
  ).request;
  const viaPrompt = parseResponsesRequest(
    JSON.stringify({ model: 'm', input: 'hi', instructions: `[session:${sid}]` }),
  ).request;
  const viaHeader = parseResponsesRequest(JSON.stringify({ model: 'm', input: 'hi' })).request;
  const body = findSessionRef(viaBody, {});
  const prompt = findSessionRef(viaPrompt, {});
  const header = findSessionRef(viaHeader, { 'x-session-id': sid });
  expect(header).toEqual({ kind: 'session', id: sid, source: 'header' });
  expect(body).toEqual({ kind: 'session', id: sid, source: 'extra_body' });
  expect(prompt).toEqual({ kind: 'session', id: sid, source: 'prompt' });
});

test('max_output_tokens and text.format map to the chat fields; reasoning effort too', () => {
  const { request } = parseResponsesRequest(
    JSON.stringify({
      model: 'm',
      input: 'hi',
      max_output_tokens: 64,
      text: { format: { type: 'json_schema', name: 'x', schema: { type: 'object' }, strict: true } },
      reasoning: { effort: 'low' },
    }),
  );
  expect(request.max_completion_tokens).toBe(64);
  expect(request.response_format).toEqual({
    type: 'json_schema',
    json_schema: { name: 'x', schema: { type: 'object' }, strict: true },
  });
  expect(request.reasoning_effort).toBe('low');
});

test.each([
  [
    { model: 'm', input: 'hi', previous_response_id: 'resp_1' },
    'previous_response_id',
    'unsupported_parameter',
  ],
  [{ model: 'm', input: 'hi', conversation: 'conv_1' }, 'conversation', 'unsupported_parameter'],
  [{ model: 'm', input: 'hi', prompt: { id: 'p' } }, 'prompt', 'unsupported_parameter'],
  [{ model: 'm', input: 'hi', background: true }, 'background', 'unsupported_parameter'],
  [{ model: 'm', input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input[0].id', 'unsupported_parameter'],
  [
    { model: 'm', input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'f' }] }] },
    'input[0].content[0].image_url',
    'unsupported_parameter',
  ],
  [
    {
      model: 'm',
      input: [{ role: 'assistant', content: [{ type: 'input_image', image_url: 'https://x/y.png' }] }],
    },
    'input[0].content[0].type',
    'invalid_value',
  ],
  [{ model: 'm', input: [] }, 'input', 'invalid_value'],
  [{ model: 'm' }, 'input', 'invalid_value'],
  [{ model: 'm', input: 'hi', tools: [{ type: 'web_search' }] }, 'tools[0].type', 'invalid_value'],
  [{ model: 'm', input: 'hi', temperature: 3 }, 'temperature', 'invalid_value'],
  [
    { model: 'm', input: [{ type: 'function_call', call_id: 'c', name: 'f' }] },
    'input[0].arguments',
    'invalid_value',
  ],
])('refused with a 400 naming the field: %j', (body, param, code) => {
  const r = refusal(body);
  expect(r).toMatchObject({ status: 400, param, code });
});

test('store is accepted and previous_response_id refused with advice to send the history', () => {
  expect(() => parseResponsesRequest(JSON.stringify({ model: 'm', input: 'hi', store: true }))).not.toThrow();
  expect(refusal({ model: 'm', input: 'hi', previous_response_id: 'resp_1' }).message).toMatch(
    /Send the whole conversation in 'input'/,
  );
});

test('the ElevenLabs fixture: greeting, system tools, no token limit, the session from the extra body', () => {
  const sid = 's_abcdefghijklmnopqrstuv';
  const fixture = readFileSync(join(__dirname, '../../fixtures/elevenlabs/responses-turn.json'), 'utf8');
  const { request } = parseResponsesRequest(fixture.replace('SESSION_ID', sid));
  expect(request.messages.map((m) => m.role)).toEqual(['system', 'assistant', 'user']);
  expect(request.tools?.map((t) => t.function.name)).toEqual([
    'end_call',
    'language_detection',
    'skip_turn',
    'transfer_to_number',
  ]);
  expect(request.max_completion_tokens).toBeUndefined();
  expect(request.temperature).toBeUndefined();
  expect(request.user_id).toBe('caller-1');
  expect(findSessionRef(request, {})).toEqual({ kind: 'session', id: sid, source: 'extra_body' });
});
