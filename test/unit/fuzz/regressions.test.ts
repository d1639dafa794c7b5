// Bugs the fuzzers found, each kept as a plain regression test named for it.
import { parseChatRequest } from '../../../shared/chat/parse';

test('fuzz regression: ElevenLabs max_tokens -1 ("no limit") parses as no limit, not a 400', () => {
  const body = { model: 'm', stream: true, max_tokens: -1, messages: [{ role: 'user', content: 'hi' }] };
  expect(parseChatRequest(JSON.stringify(body)).max_tokens ?? null).toBeNull();
  expect(
    parseChatRequest(JSON.stringify({ ...body, max_completion_tokens: -1 })).max_completion_tokens ?? null,
  ).toBeNull();
  // Any limit <= 0 means "no limit" (0 is another client's way of saying it).
  for (const v of [0, -2, -0.5])
    expect(parseChatRequest(JSON.stringify({ ...body, max_tokens: v })).max_tokens ?? null).toBeNull();
  // A fractional or non-numeric positive limit is still refused, with the field named.
  expect(() => parseChatRequest(JSON.stringify({ ...body, max_tokens: 1.5 }))).toThrow(/max_tokens/);
  expect(() => parseChatRequest(JSON.stringify({ ...body, max_tokens: '100' }))).toThrow(/max_tokens/);
});
