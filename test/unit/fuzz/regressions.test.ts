// Bugs the fuzzers found, each kept as a plain regression test named for it.
import { parseChatRequest } from '../../../shared/chat/parse';

test('fuzz regression: ElevenLabs max_tokens -1 ("no limit") parses as no limit, not a 400', () => {
  const body = { model: 'm', stream: true, max_tokens: -1, messages: [{ role: 'user', content: 'hi' }] };
  expect(parseChatRequest(JSON.stringify(body)).max_tokens ?? null).toBeNull();
  expect(
    parseChatRequest(JSON.stringify({ ...body, max_completion_tokens: -1 })).max_completion_tokens ?? null,
  ).toBeNull();
  // Other non-positive limits stay refused, with the field named.
  expect(() => parseChatRequest(JSON.stringify({ ...body, max_tokens: 0 }))).toThrow(/max_tokens/);
  expect(() => parseChatRequest(JSON.stringify({ ...body, max_tokens: -2 }))).toThrow(/max_tokens/);
});
