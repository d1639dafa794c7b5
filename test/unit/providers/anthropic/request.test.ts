// The OpenAI -> Anthropic request translation: system prompt, turn merging, images and prompt
// caching, tools and tool history, limits, and a whole ElevenLabs-shaped conversation.
import { ValidationError } from '../../../../shared/errors';
import { type ChatRequest, chatRequestSchema } from '../../../../shared/openai/schema';
import { CONVERSATION_START_TEXT } from '../../../../shared/providers/anthropic/messages';
import { toAnthropicRequest } from '../../../../shared/providers/anthropic/request';
import { MISSING_TOOL_RESULT } from '../../../../shared/providers/anthropic/tool-history';

const EPHEMERAL = { type: 'ephemeral' };
const PNG = 'data:image/png;base64,iVBORw0KGgo=';
const JPEG = 'data:image/jpeg;base64,/9j/4AAQ';

/** Requests go through the real schema, so defaults (tool type, arguments) apply as in production. */
function req(body: Record<string, unknown>): ChatRequest {
  return chatRequestSchema.parse({ model: 'agent-model', ...body });
}

const translate = (body: Record<string, unknown>, opts: { maxTokens?: number } = {}) =>
  toAnthropicRequest(req(body), 'claude-sonnet-4-6', { defaultMaxTokens: 1024, ...opts });

const tool = (name: string, parameters?: Record<string, unknown>) => ({
  type: 'function',
  function: { name, description: `${name} tool`, ...(parameters ? { parameters } : {}) },
});

describe('system prompt', () => {
  test('system and developer messages are collected into top-level system, cached at the last block', () => {
    const out = translate({
      messages: [
        { role: 'system', content: 'You are a guide.' },
        { role: 'user', content: 'hi' },
        { role: 'developer', content: [{ type: 'text', text: 'Be brief.' }] },
      ],
    });
    expect(out.system).toEqual([
      { type: 'text', text: 'You are a guide.' },
      { type: 'text', text: 'Be brief.', cache_control: EPHEMERAL },
    ]);
    expect(out.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'hi' }] }]);
  });

  test('no system messages: no system field', () => {
    expect(translate({ messages: [{ role: 'user', content: 'hi' }] })).not.toHaveProperty('system');
  });
});

describe('turns', () => {
  test('consecutive same-role turns are merged', () => {
    const out = translate({
      messages: [
        { role: 'user', content: 'one' },
        { role: 'user', content: [{ type: 'text', text: 'two' }] },
        { role: 'assistant', content: 'a' },
        { role: 'assistant', content: 'b' },
        { role: 'user', content: 'three' },
      ],
    });
    expect(out.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'one' },
          { type: 'text', text: 'two' },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
        ],
      },
      { role: 'user', content: [{ type: 'text', text: 'three' }] },
    ]);
  });

  test('an empty assistant message without tool calls is dropped, and the users around it merge', () => {
    const out = translate({
      messages: [
        { role: 'user', content: 'one' },
        { role: 'assistant', content: '' },
        { role: 'assistant', content: null },
        { role: 'user', content: 'two' },
      ],
    });
    expect(out.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'one' },
          { type: 'text', text: 'two' },
        ],
      },
    ]);
  });

  test('a history that starts with the assistant greeting gets a minimal user turn first', () => {
    const out = translate({
      messages: [
        { role: 'system', content: 'S' },
        { role: 'assistant', content: 'Hi! What can I look at for you?' },
        { role: 'user', content: 'this' },
      ],
    });
    expect(out.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(out.messages[0]).toEqual({
      role: 'user',
      content: [{ type: 'text', text: CONVERSATION_START_TEXT }],
    });
  });

  test('empty and whitespace-only text parts are left out (Anthropic rejects empty text blocks)', () => {
    const out = translate({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: '' },
            { type: 'text', text: 'look' },
            { type: 'text', text: '  ' },
          ],
        },
      ],
    });
    expect(out.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'look' }] }]);
  });
});

describe('images', () => {
  test('data URIs go inline as base64, web URLs by reference; only the last image is cached', () => {
    const out = translate({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'first' },
            { type: 'image_url', image_url: { url: PNG } },
          ],
        },
        { role: 'assistant', content: 'ok' },
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: 'https://cdn.example.com/a.jpg', detail: 'low' } },
            { type: 'image_url', image_url: { url: JPEG, detail: 'high' } },
            { type: 'text', text: 'and these' },
          ],
        },
      ],
    });
    expect(out.messages[0]!.content).toEqual([
      { type: 'text', text: 'first' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
    ]);
    expect(out.messages[2]!.content).toEqual([
      { type: 'image', source: { type: 'url', url: 'https://cdn.example.com/a.jpg' } },
      {
        type: 'image',
        source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' },
        cache_control: EPHEMERAL,
      },
      { type: 'text', text: 'and these' },
    ]);
  });

  test('the last image is cached even when it is a URL in an earlier turn', () => {
    const out = translate({
      messages: [
        { role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://x.test/1.png' } }] },
        { role: 'assistant', content: 'seen' },
        { role: 'user', content: 'what colour?' },
      ],
    });
    expect(out.messages[0]!.content).toEqual([
      { type: 'image', source: { type: 'url', url: 'http://x.test/1.png' }, cache_control: EPHEMERAL },
    ]);
  });

  test('image/jpg is read as image/jpeg', () => {
    const out = translate({
      messages: [
        { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/jpg;base64,AAAA' } }] },
      ],
    });
    expect(out.messages[0]!.content).toEqual([
      {
        type: 'image',
        source: { type: 'base64', media_type: 'image/jpeg', data: 'AAAA' },
        cache_control: EPHEMERAL,
      },
    ]);
  });

  test.each([
    ['data:image/tiff;base64,AAAA', 'unsupported_image_type'],
    ['data:image/png,rawbytes', 'invalid_image_url'],
    ['ftp://x.test/a.png', 'invalid_image_url'],
  ])('%s is refused with a ValidationError naming the part', (url, code) => {
    const run = () =>
      translate({
        messages: [
          { role: 'user', content: 'x' },
          { role: 'user', content: [{ type: 'image_url', image_url: { url } }] },
        ],
      });
    expect(run).toThrow(ValidationError);
    expect(run).toThrow(expect.objectContaining({ code, param: 'messages[1].content[0].image_url.url' }));
  });
});

describe('tools', () => {
  test('tools become name/description/input_schema; a tool without parameters gets an empty object schema', () => {
    const out = translate({
      messages: [{ role: 'user', content: 'hi' }],
      tools: [
        tool('end_call'),
        tool('get_weather', { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
      ],
    });
    expect(out.tools).toEqual([
      { name: 'end_call', description: 'end_call tool', input_schema: { type: 'object', properties: {} } },
      {
        name: 'get_weather',
        description: 'get_weather tool',
        input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    ]);
  });

  test.each([
    ['none', undefined, { type: 'none' }],
    ['auto', undefined, { type: 'auto' }],
    ['required', undefined, { type: 'any' }],
    [{ type: 'function', function: { name: 'end_call' } }, undefined, { type: 'tool', name: 'end_call' }],
    ['required', false, { type: 'any', disable_parallel_tool_use: true }],
    [undefined, false, { type: 'auto', disable_parallel_tool_use: true }],
    [undefined, true, undefined],
    [undefined, undefined, undefined],
  ])('tool_choice %j with parallel_tool_calls %j -> %j', (choice, parallel, expected) => {
    const out = translate({
      messages: [{ role: 'user', content: 'hi' }],
      tools: [tool('end_call')],
      ...(choice !== undefined ? { tool_choice: choice } : {}),
      ...(parallel !== undefined ? { parallel_tool_calls: parallel } : {}),
    });
    expect(out.tool_choice).toEqual(expected);
  });

  test('tool_choice is left out when there are no tools', () => {
    const out = translate({ messages: [{ role: 'user', content: 'hi' }], tool_choice: 'required' });
    expect(out).not.toHaveProperty('tool_choice');
    expect(out).not.toHaveProperty('tools');
  });
});

describe('tool history', () => {
  const tools = [tool('get_weather'), tool('end_call'), tool('language_detection')];

  test('regression: history with earlier tool calls becomes tool_use/tool_result pairs with matching ids', () => {
    const out = translate({
      tools,
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            {
              id: 'call_A',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
            {
              id: 'call_B',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Rome"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_A', content: '18C sunny' },
        { role: 'tool', tool_call_id: 'call_B', content: [{ type: 'text', text: '24C' }] },
        { role: 'user', content: 'And tomorrow?' },
      ],
    });
    expect(out.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'call_A', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'call_B', name: 'get_weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_A', content: '18C sunny' },
          { type: 'tool_result', tool_use_id: 'call_B', content: '24C' },
          { type: 'text', text: 'And tomorrow?' },
        ],
      },
    ]);
  });

  test('tool arguments: "" becomes {}, and text that is not a JSON object is kept under _raw', () => {
    const out = translate({
      tools,
      messages: [
        { role: 'user', content: 'bye' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'c1', function: { name: 'end_call', arguments: '' } },
            { id: 'c2', function: { name: 'get_weather', arguments: '{"city": "Par' } },
            { id: 'c3', function: { name: 'get_weather', arguments: '[1,2]' } },
          ],
        },
        { role: 'tool', tool_call_id: 'c1', content: '' },
        { role: 'tool', tool_call_id: 'c2', content: 'error' },
        { role: 'tool', tool_call_id: 'c3', content: 'error' },
      ],
    });
    expect(out.messages[1]!.content).toEqual([
      { type: 'tool_use', id: 'c1', name: 'end_call', input: {} },
      { type: 'tool_use', id: 'c2', name: 'get_weather', input: { _raw: '{"city": "Par' } },
      { type: 'tool_use', id: 'c3', name: 'get_weather', input: { _raw: '[1,2]' } },
    ]);
    // An empty tool result is sent without content rather than as an empty text.
    expect(out.messages[2]!.content).toContainEqual({ type: 'tool_result', tool_use_id: 'c1' });
  });

  test('a tool call without a result in history gets a placeholder result, so the request stays valid', () => {
    const out = translate({
      tools,
      messages: [
        { role: 'user', content: 'bye' },
        {
          role: 'assistant',
          content: 'Bye!',
          tool_calls: [{ id: 'c1', function: { name: 'end_call', arguments: '{}' } }],
        },
        { role: 'user', content: 'wait, one more thing' },
      ],
    });
    expect(out.messages[2]).toEqual({
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'c1', content: MISSING_TOOL_RESULT },
        { type: 'text', text: 'wait, one more thing' },
      ],
    });
  });

  test('a tool call ending the history gets its placeholder result in a user turn of its own', () => {
    const out = translate({
      tools,
      messages: [
        { role: 'user', content: 'bye' },
        { role: 'assistant', tool_calls: [{ id: 'c1', function: { name: 'end_call', arguments: '{}' } }] },
      ],
    });
    expect(out.messages.at(-1)).toEqual({
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'c1', content: MISSING_TOOL_RESULT }],
    });
  });

  test('a tool result answering no call of the turn before becomes text', () => {
    const out = translate({
      tools,
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
        { role: 'tool', tool_call_id: 'ghost', content: 'stale' },
        { role: 'user', content: 'ok' },
      ],
    });
    expect(out.messages[2]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: '[result of tool call ghost: stale]' },
        { type: 'text', text: 'ok' },
      ],
    });
  });

  test('without declared tools, earlier tool calls and results are written out as text', () => {
    const out = translate({
      messages: [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          tool_calls: [{ id: 'c1', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: '-3C' },
      ],
    });
    expect(out.messages.slice(1)).toEqual([
      {
        role: 'assistant',
        content: [{ type: 'text', text: '[called tool get_weather with {"city":"Oslo"}]' }],
      },
      { role: 'user', content: [{ type: 'text', text: '[result of tool call c1: -3C]' }] },
    ]);
  });
});

describe('limits and other fields', () => {
  const messages = [{ role: 'user', content: 'hi' }];

  test('max_tokens: the client limit under the route ceiling (the rule of call-settings.ts), else the default', () => {
    expect(
      translate({ messages, max_completion_tokens: 10, max_tokens: 20 }, { maxTokens: 30 }).max_tokens,
    ).toBe(10);
    expect(translate({ messages, max_tokens: 20 }, { maxTokens: 30 }).max_tokens).toBe(20);
    expect(translate({ messages }, { maxTokens: 30 }).max_tokens).toBe(30);
    expect(translate({ messages, max_tokens: 2000 }, { maxTokens: 30 }).max_tokens).toBe(30);
    expect(translate({ messages }).max_tokens).toBe(1024);
  });

  test('temperature is never sent: null, absent, or set (the API version rejects sampling parameters)', () => {
    for (const temperature of [null, undefined, 0.2]) {
      const out = translate({ messages, ...(temperature !== undefined ? { temperature } : {}), top_p: 0.9 });
      expect(out).not.toHaveProperty('temperature');
      expect(out).not.toHaveProperty('top_p');
    }
  });

  test('stop becomes stop_sequences, whitespace-only entries dropped', () => {
    expect(translate({ messages, stop: 'END' }).stop_sequences).toEqual(['END']);
    expect(translate({ messages, stop: ['A', ' ', 'B'] }).stop_sequences).toEqual(['A', 'B']);
    expect(translate({ messages, stop: null })).not.toHaveProperty('stop_sequences');
  });

  test('user, else user_id, becomes metadata.user_id', () => {
    expect(translate({ messages, user: 'u1', user_id: 'u2' }).metadata).toEqual({ user_id: 'u1' });
    expect(translate({ messages, user_id: 'u2' }).metadata).toEqual({ user_id: 'u2' });
    expect(translate({ messages })).not.toHaveProperty('metadata');
  });

  test('the request streams and names the target model, not the client model', () => {
    const out = translate({ messages });
    expect(out.stream).toBe(true);
    expect(out.model).toBe('claude-sonnet-4-6');
  });
});

test('an ElevenLabs-shaped conversation translates whole', () => {
  const out = translate({
    model: 'custom-llm',
    stream: true,
    temperature: null,
    max_tokens: 5000,
    user_id: 'conv_user_42',
    elevenlabs_extra_body: { session_id: 'sess-1' },
    tools: [
      tool('end_call', { type: 'object', properties: { reason: { type: 'string' } }, required: ['reason'] }),
      tool('language_detection', {
        type: 'object',
        properties: { reason: { type: 'string' }, language: { type: 'string' } },
        required: ['reason', 'language'],
      }),
      tool('skip_turn', { type: 'object', properties: {} }),
    ],
    messages: [
      { role: 'system', content: 'You describe what the camera sees. [session:sess-1]' },
      { role: 'assistant', content: 'Hi! Point your camera at something.' },
      { role: 'user', content: 'What is this?' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Latest camera frame:' },
          { type: 'image_url', image_url: { url: JPEG } },
        ],
      },
      {
        role: 'assistant',
        content: '',
        tool_calls: [
          {
            id: 'call_lang',
            type: 'function',
            function: { name: 'language_detection', arguments: '{"reason":"user switched","language":"de"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_lang', content: 'Language switched to de' },
      { role: 'assistant', content: 'Das ist ein Fahrrad.' },
      { role: 'user', content: 'Danke, tschüss!' },
    ],
  });
  expect(out).toEqual({
    model: 'claude-sonnet-4-6',
    max_tokens: 5000,
    stream: true,
    metadata: { user_id: 'conv_user_42' },
    system: [
      { type: 'text', text: 'You describe what the camera sees. [session:sess-1]', cache_control: EPHEMERAL },
    ],
    tools: [
      {
        name: 'end_call',
        description: 'end_call tool',
        input_schema: { type: 'object', properties: { reason: { type: 'string' } }, required: ['reason'] },
      },
      {
        name: 'language_detection',
        description: 'language_detection tool',
        input_schema: {
          type: 'object',
          properties: { reason: { type: 'string' }, language: { type: 'string' } },
          required: ['reason', 'language'],
        },
      },
      { name: 'skip_turn', description: 'skip_turn tool', input_schema: { type: 'object', properties: {} } },
    ],
    messages: [
      { role: 'user', content: [{ type: 'text', text: CONVERSATION_START_TEXT }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Hi! Point your camera at something.' }] },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'text', text: 'Latest camera frame:' },
          {
            type: 'image',
            source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' },
            cache_control: EPHEMERAL,
          },
        ],
      },
      {
        role: 'assistant',
        content: [
          {
            type: 'tool_use',
            id: 'call_lang',
            name: 'language_detection',
            input: { reason: 'user switched', language: 'de' },
          },
        ],
      },
      {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: 'call_lang', content: 'Language switched to de' }],
      },
      { role: 'assistant', content: [{ type: 'text', text: 'Das ist ein Fahrrad.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Danke, tschüss!' }] },
    ],
  });
});
