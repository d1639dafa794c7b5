// parseChatRequest: the body's way in. Each refusal is a 400 that names its field and code; each
// shape ElevenLabs (or any OpenAI client) may send is accepted, read the way OpenAI reads it.
import { parseChatRequest } from '../../../shared/chat/parse';
import { ValidationError } from '../../../shared/errors';
import { MAX_JSON_DEPTH } from '../../../shared/http/json-depth';

const user = [{ role: 'user', content: 'What do you see?' }];
const body = (extra: Record<string, unknown>) =>
  JSON.stringify({ model: 'gpt-4o', messages: user, ...extra });

function refusal(raw: string | Buffer): { message: string; param: string | null; code: string | null } {
  try {
    parseChatRequest(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    const e = err as ValidationError;
    expect(e.status).toBe(400);
    return { message: e.message, param: e.param, code: e.code };
  }
  throw new Error('expected a refusal');
}

describe('refused, with the field and a code', () => {
  test.each([
    ['an empty body', '', 'invalid_json', null],
    ['whitespace', '  \n', 'invalid_json', null],
    ['not JSON', '{"model":', 'invalid_json', null],
    ['a JSON array', '[1]', 'invalid_json', null],
    ['JSON null', 'null', 'invalid_json', null],
    ['no messages', JSON.stringify({ model: 'm' }), 'invalid_value', 'messages'],
    ['an empty model', body({ model: '' }), 'invalid_value', 'model'],
    [
      'a bad role, by index',
      JSON.stringify({ model: 'm', messages: [...user, { role: 'robot' }] }),
      'invalid_value',
      'messages[1].role',
    ],
    ['a fractional max_tokens', body({ max_tokens: 1.5 }), 'invalid_value', 'max_tokens'],
    ['n > 1', body({ n: 2 }), 'invalid_value', 'n'],
    [
      'a tool without a name',
      body({ tools: [{ type: 'function', function: { name: '' } }] }),
      'invalid_value',
      'tools[0].function.name',
    ],
  ])('%s', (_name, raw, code, param) => {
    expect(refusal(raw)).toMatchObject({ code, param });
  });

  test('a body nested too deep is refused before validation, naming where', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < MAX_JSON_DEPTH + 2; i++) deep = { a: deep };
    const r = refusal(body({ metadata: deep }));
    expect(r.code).toBe('json_too_deep');
    expect(r.param).toMatch(/^metadata(\.a)+$/);
    expect(r.message).toContain(String(MAX_JSON_DEPTH));
  });

  test('the message names the field', () => {
    expect(refusal(body({ temperature: 3 })).message).toMatch(/^Invalid value for 'temperature': /);
  });
});

describe('accepted as OpenAI reads it', () => {
  test('a Buffer body and a string body parse the same', () => {
    const raw = body({ stream: true });
    expect(parseChatRequest(Buffer.from(raw))).toEqual(parseChatRequest(raw));
  });

  test.each([-1, 0, null])('max_tokens %p is no limit (ElevenLabs sends -1)', (v) => {
    const r = parseChatRequest(body({ max_tokens: v, max_completion_tokens: v }));
    expect(r.max_tokens ?? undefined).toBeUndefined();
    expect(r.max_completion_tokens ?? undefined).toBeUndefined();
  });

  test('a tool with description: null has no description', () => {
    const r = parseChatRequest(
      body({
        tools: [{ type: 'function', function: { name: 'skip_turn', description: null, parameters: {} } }],
      }),
    );
    expect(r.tools?.[0]?.function.description).toBeUndefined();
    expect(JSON.stringify(r.tools)).not.toContain('description');
  });

  test('an assistant message with tool calls and content: null', () => {
    const r = parseChatRequest(
      JSON.stringify({
        model: 'gpt-4o',
        messages: [
          ...user,
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c1', type: 'function', function: { name: 'end_call', arguments: '{}' } }],
          },
          { role: 'tool', tool_call_id: 'c1', content: 'ok' },
        ],
      }),
    );
    expect(r.messages[1]).toMatchObject({ role: 'assistant', content: null, tool_calls: [{ id: 'c1' }] });
  });

  test("unknown fields are tolerated and dropped; ElevenLabs' own are kept", () => {
    const r = parseChatRequest(
      body({ some_future_field: 1, user_id: 'caller', elevenlabs_extra_body: { session_id: 's1' } }),
    );
    expect(r).not.toHaveProperty('some_future_field');
    expect(r).toMatchObject({ user_id: 'caller', elevenlabs_extra_body: { session_id: 's1' } });
  });

  test('a tool call without type or arguments gets the defaults', () => {
    const r = parseChatRequest(
      JSON.stringify({
        model: 'm',
        messages: [...user, { role: 'assistant', tool_calls: [{ id: 'c', function: { name: 'f' } }] }],
      }),
    );
    expect(r.messages[1]).toMatchObject({ tool_calls: [{ type: 'function', function: { arguments: '' } }] });
  });
});
