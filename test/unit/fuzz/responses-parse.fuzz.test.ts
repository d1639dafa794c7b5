// Fuzzes the Responses door's parser: any JSON value or byte string is a turn or a 4xx OpenAI
// error object, never another throw; ElevenLabs-shaped Responses requests with random extra
// fields always parse.
import fc from 'fast-check';
import { parseResponsesRequest } from '../../../shared/responses/request';
import { fuzz } from './fuzz-settings';
import { parseOrRefuse as check } from './parse-or-refuse';

const parseOrRefuse = (body: string | Buffer) => check(parseResponsesRequest, body);

test('any JSON value -> a turn or a 4xx error', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
      parseOrRefuse(JSON.stringify(value) ?? 'null');
    }),
    fuzz(300),
  );
});

const item = fc.oneof(
  fc.record({
    role: fc.constantFrom('user', 'assistant', 'system', 'developer', 'tool', 'x'),
    content: fc.oneof(
      fc.string(),
      fc.array(
        fc.record({
          type: fc.constantFrom('input_text', 'output_text', 'input_image', 'refusal', 'input_file'),
          text: fc.option(fc.string(), { nil: undefined }),
          image_url: fc.option(fc.constantFrom('https://x/y.png', 'data:image/png;base64,AA', ''), {
            nil: undefined,
          }),
          file_id: fc.option(fc.string(), { nil: undefined }),
          refusal: fc.option(fc.string(), { nil: undefined }),
        }),
        { maxLength: 3 },
      ),
      fc.jsonValue({ maxDepth: 2 }),
    ),
  }),
  fc.record({
    type: fc.constantFrom('function_call', 'function_call_output', 'reasoning', 'item_reference', 'message'),
    call_id: fc.option(fc.string(), { nil: undefined }),
    name: fc.option(fc.string(), { nil: undefined }),
    arguments: fc.option(fc.string(), { nil: undefined }),
    output: fc.option(fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 2 })), { nil: undefined }),
    id: fc.option(fc.string(), { nil: undefined }),
  }),
  fc.jsonValue({ maxDepth: 3 }),
);

test('any object under the Responses keys -> a turn or a 4xx error', () => {
  const anyValue = fc.jsonValue({ maxDepth: 4 });
  fc.assert(
    fc.property(
      fc.record(
        {
          model: fc.oneof(fc.string(), anyValue),
          input: fc.oneof(fc.string(), fc.array(item, { maxLength: 5 }), anyValue),
          instructions: fc.oneof(fc.string(), anyValue),
          tools: fc.oneof(
            anyValue,
            fc.array(fc.record({ type: fc.constant('function'), name: fc.string() })),
          ),
          tool_choice: anyValue,
          max_output_tokens: fc.oneof(fc.integer(), anyValue),
          previous_response_id: anyValue,
          store: anyValue,
          metadata: anyValue,
          text: anyValue,
        },
        { requiredKeys: [] },
      ),
      (value) => {
        parseOrRefuse(JSON.stringify(value));
      },
    ),
    fuzz(400),
  );
});

test('any byte string -> a turn or a 4xx error', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
      parseOrRefuse(Buffer.from(bytes));
    }),
    fuzz(300),
  );
});

/** A Responses request as ElevenLabs sends them (api_type "responses"), plus random extra fields. */
const elevenLabsRequest = fc.record({
  model: fc.string({ minLength: 1, maxLength: 40 }),
  stream: fc.constant(true),
  max_output_tokens: fc.constantFrom(undefined, -1, null, 0, 256),
  temperature: fc.option(fc.double({ min: 0, max: 2, noNaN: true }), { nil: null }),
  user_id: fc.option(fc.string(), { nil: undefined }),
  instructions: fc.option(fc.string(), { nil: undefined }),
  elevenlabs_extra_body: fc.option(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })), {
    nil: undefined,
  }),
  input: fc.array(
    fc.oneof(
      fc.record({ role: fc.constantFrom('user', 'assistant', 'system'), content: fc.string() }),
      fc.record({
        role: fc.constant('user'),
        content: fc.array(fc.record({ type: fc.constant('input_text'), text: fc.string() }), {
          maxLength: 2,
        }),
      }),
      fc.record({
        type: fc.constant('function_call'),
        call_id: fc.string({ minLength: 1 }),
        name: fc.constantFrom('end_call', 'skip_turn', 'language_detection'),
        arguments: fc.constantFrom('', '{}', '{"reason":"done"}'),
      }),
      fc.record({
        type: fc.constant('function_call_output'),
        call_id: fc.string({ minLength: 1 }),
        output: fc.string(),
      }),
    ),
    { minLength: 1, maxLength: 6 },
  ),
  tools: fc.constant([
    {
      type: 'function',
      name: 'end_call',
      description: 'Ends the call',
      parameters: { type: 'object', properties: { reason: { type: 'string' } }, required: ['reason'] },
      strict: false,
    },
  ]),
  extra: fc.dictionary(
    fc.string({ minLength: 1, maxLength: 12 }).map((k) => `x_${k}`),
    fc.jsonValue({ maxDepth: 4 }),
  ),
});

test('ElevenLabs-shaped Responses requests with random extra fields always parse', () => {
  fc.assert(
    fc.property(elevenLabsRequest, ({ extra, max_output_tokens, ...req }) => {
      const body = { ...extra, ...req, ...(max_output_tokens === undefined ? {} : { max_output_tokens }) };
      expect(parseOrRefuse(JSON.stringify(body))).toBe('parsed');
    }),
    fuzz(200),
  );
});
