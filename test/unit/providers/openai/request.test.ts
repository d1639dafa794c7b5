import { chatRequestSchema } from '../../../../shared/openai/schema';
import { isReasoningModel, toOpenAIRequest } from '../../../../shared/providers/openai/request';

const req = (extra: Record<string, unknown> = {}) =>
  chatRequestSchema.parse({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], ...extra });

test('reasoning models are recognised; chat variants and older models are not', () => {
  expect(['o1', 'o3-mini', 'o4-mini', 'gpt-5', 'gpt-5-mini', 'gpt-5.1'].every(isReasoningModel)).toBe(true);
  expect(['gpt-4o', 'gpt-4.1-mini', 'gpt-5-chat-latest', 'llama-3'].some(isReasoningModel)).toBe(false);
});

test('OpenAI gets max_completion_tokens; reasoning models lose temperature and top_p', () => {
  const body = toOpenAIRequest(req({ max_tokens: 50, temperature: 0.3, top_p: 0.9 }), 'gpt-5-mini', {
    dialect: 'openai',
  });
  expect(body.max_completion_tokens).toBe(50);
  expect(body).not.toHaveProperty('max_tokens');
  expect(body).not.toHaveProperty('temperature');
  expect(body).not.toHaveProperty('top_p');
  const classic = toOpenAIRequest(req({ max_tokens: 50, temperature: 0.3 }), 'gpt-4o', { dialect: 'openai' });
  expect(classic).toMatchObject({ max_completion_tokens: 50, temperature: 0.3 });
});

test('compatible servers get max_tokens and no user field', () => {
  const body = toOpenAIRequest(req({ max_completion_tokens: 77, user_id: 'u1' }), 'llama', {
    dialect: 'compatible',
  });
  expect(body.max_tokens).toBe(77);
  expect(body).not.toHaveProperty('max_completion_tokens');
  expect(body).not.toHaveProperty('user');
});

test("the route's maxTokens is a ceiling over the client's; the route's temperature wins", () => {
  const capped = (client: number) =>
    toOpenAIRequest(req({ max_tokens: client }), 'gpt-4o', { dialect: 'openai', maxTokens: 9 })
      .max_completion_tokens;
  expect([capped(5), capped(50)]).toEqual([5, 9]);
});

test('temperature null or absent is omitted; a route override wins', () => {
  expect(toOpenAIRequest(req({ temperature: null }), 'gpt-4o', { dialect: 'openai' })).not.toHaveProperty(
    'temperature',
  );
  expect(
    toOpenAIRequest(req({ temperature: 1 }), 'gpt-4o', { dialect: 'openai', temperature: 0.2, maxTokens: 9 }),
  ).toMatchObject({
    temperature: 0.2,
    max_completion_tokens: 9,
  });
});

test('always streams and always asks for usage; user_id becomes user', () => {
  const body = toOpenAIRequest(req({ stream: false, user_id: 'abc' }), 'gpt-4o', { dialect: 'openai' });
  expect(body).toMatchObject({ stream: true, stream_options: { include_usage: true }, user: 'abc' });
});

test('assistant reasoning_content is not sent back upstream; image parts pass through', () => {
  const r = chatRequestSchema.parse({
    model: 'm',
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'see' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } },
        ],
      },
      { role: 'assistant', content: 'ok', reasoning_content: 'hmm' },
    ],
  });
  const body = toOpenAIRequest(r, 'gpt-4o', { dialect: 'openai' });
  expect(body.messages[1]).toEqual({ role: 'assistant', content: 'ok' });
  expect(body.messages[0]).toEqual({
    role: 'user',
    content: [
      { type: 'text', text: 'see' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } },
    ],
  });
});
