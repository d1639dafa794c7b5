// The chat body parser on the shapes real callers send.
import { parseChatRequest } from '../../../shared/chat/parse';

const body = (extra: Record<string, unknown>) =>
  JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], ...extra });

// Regression: ElevenLabs sends `max_tokens: -1` ("no limit") on every voice turn; it was a 400.
test('max_tokens -1 (ElevenLabs: no limit) is read as absent', () => {
  expect(parseChatRequest(body({ max_tokens: -1, stream: true })).max_tokens).toBeUndefined();
});

test('max_tokens 0 or below -1 is still refused with a precise 400', () => {
  for (const v of [0, -2, 1.5]) {
    expect(() => parseChatRequest(body({ max_tokens: v }))).toThrow(/Invalid value for 'max_tokens'/);
  }
  expect(parseChatRequest(body({ max_tokens: 64 })).max_tokens).toBe(64);
});
