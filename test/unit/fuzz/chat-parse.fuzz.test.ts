// Fuzzes the chat request parser: any JSON value or byte string is a ChatRequest or a 4xx
// OpenAI error object, never another throw; ElevenLabs-shaped requests with random extra
// fields always parse.
import fc from 'fast-check';
import { parseChatRequest } from '../../../shared/chat/parse';
import { MAX_JSON_DEPTH } from '../../../shared/http/json-depth';
import { fuzz } from './fuzz-settings';
import { parseOrRefuse as check } from './parse-or-refuse';

const parseOrRefuse = (body: string | Buffer) => check(parseChatRequest, body);

test('any JSON value -> a ChatRequest or a 4xx error', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
      parseOrRefuse(JSON.stringify(value) ?? 'null');
    }),
    fuzz(300),
  );
});

test('any object under the chat keys -> a ChatRequest or a 4xx error', () => {
  const keys = [
    'model',
    'messages',
    'stream',
    'tools',
    'tool_choice',
    'temperature',
    'max_tokens',
    'stop',
    'n',
  ];
  const anyValue = fc.jsonValue({ maxDepth: 4 });
  fc.assert(
    fc.property(fc.dictionary(fc.constantFrom(...keys, '__proto__', 'constructor'), anyValue), (value) => {
      parseOrRefuse(JSON.stringify(value));
    }),
    fuzz(300),
  );
});

test('any byte string -> a ChatRequest or a 4xx error', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
      parseOrRefuse(Buffer.from(bytes));
    }),
    fuzz(300),
  );
});

test('nesting of any depth: accepted up to the limit, else json_too_deep', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 3000 }), fc.boolean(), (levels, arrays) => {
      const open = arrays ? '['.repeat(levels) : '{"a":'.repeat(levels);
      const close = arrays ? ']'.repeat(levels) : '}'.repeat(levels);
      const body = `{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"x":${open}1${close}}}}]}`;
      // The body is level 1 ... parameters level 5; the fuzzed values start at level 6.
      const code = parseOrRefuse(body);
      expect(code).toBe(5 + levels > MAX_JSON_DEPTH ? 'json_too_deep' : 'parsed');
    }),
    fuzz(100),
  );
});

/** An ElevenLabs Custom LLM request, as it sends them, plus whatever extra fields it may add. */
const elevenLabsRequest = fc.record({
  model: fc.string({ minLength: 1, maxLength: 40 }),
  stream: fc.constant(true),
  max_tokens: fc.constantFrom(undefined, -1, null, 256),
  temperature: fc.option(fc.double({ min: 0, max: 2, noNaN: true }), { nil: null }),
  user_id: fc.option(fc.string(), { nil: undefined }),
  elevenlabs_extra_body: fc.option(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })), {
    nil: undefined,
  }),
  messages: fc.array(
    fc.oneof(
      fc.record({ role: fc.constant('system'), content: fc.string() }),
      fc.record({ role: fc.constant('user'), content: fc.string() }),
      fc.record({ role: fc.constant('assistant'), content: fc.string() }),
      // An earlier turn that only called a tool: OpenAI writes its content as null.
      fc.record({
        role: fc.constant('assistant'),
        content: fc.constant(null),
        tool_calls: fc.constant([
          { id: 'call_1', type: 'function', function: { name: 'end_call', arguments: '{"reason":"bye"}' } },
        ]),
      }),
    ),
    { minLength: 1, maxLength: 6 },
  ),
  tools: fc.constant([
    {
      type: 'function',
      function: {
        name: 'end_call',
        description: 'Ends the call',
        parameters: { type: 'object', properties: { reason: { type: 'string' } }, required: ['reason'] },
      },
    },
    { type: 'function', function: { name: 'skip_turn', description: null, parameters: { type: 'object' } } },
  ]),
  extra: fc.dictionary(
    fc.string({ minLength: 1, maxLength: 12 }).map((k) => `x_${k}`),
    fc.jsonValue({ maxDepth: 4 }),
  ),
});

test('ElevenLabs-shaped requests with random extra fields always parse', () => {
  fc.assert(
    fc.property(elevenLabsRequest, ({ extra, max_tokens, ...req }) => {
      // ElevenLabs sends max_tokens: -1 for "no limit"; the parser must not refuse the turn for it.
      const body = { ...extra, ...req, ...(max_tokens === undefined ? {} : { max_tokens }) };
      expect(parseOrRefuse(JSON.stringify(body))).toBe('parsed');
    }),
    fuzz(200),
  );
});
