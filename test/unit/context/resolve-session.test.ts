// findSessionRef and conversationKey: which session a turn names, first match wins in the
// documented order, and ids of the wrong shape are ignored (never looked up, never a key).
import { conversationKey, findSessionRef } from '../../../shared/context/resolve-session';
import { type ChatRequest, chatRequestSchema } from '../../../shared/openai/schema';

const S1 = 's_AAAAAAAAAAAAAAAAAAAAAA';
const S2 = 's_BBBBBBBBBBBBBBBBBBBBBB';
const CONV = 'conv_01jx8yz3k4m5n6p7q8r9';

function turn(opts: { system?: string; extra?: Record<string, unknown> } = {}): ChatRequest {
  return chatRequestSchema.parse({
    model: 'gpt-4o',
    messages: [
      ...(opts.system !== undefined ? [{ role: 'system', content: opts.system }] : []),
      { role: 'user', content: 'What do you see? [session:s_CCCCCCCCCCCCCCCCCCCCCC]' },
    ],
    ...(opts.extra ? { elevenlabs_extra_body: opts.extra } : {}),
  });
}

describe('first match wins, in the documented order', () => {
  test.each([
    [
      '1. the extra body beats every other place',
      turn({ extra: { session_id: S1 }, system: `[session:${S2}]` }),
      { 'x-session-id': S2, 'x-conversation-id': CONV },
      { kind: 'session', id: S1, source: 'extra_body' },
    ],
    [
      '2. the session header beats the conversation header and the prompt',
      turn({ system: `[session:${S2}]` }),
      { 'x-session-id': ` ${S1} `, 'x-conversation-id': CONV },
      { kind: 'session', id: S1, source: 'header' },
    ],
    [
      '3. the conversation header beats the prompt',
      turn({ system: `[session:${S2}]` }),
      { 'x-conversation-id': CONV },
      { kind: 'conversation', id: CONV, source: 'header' },
    ],
    [
      '4. a session marker in the system prompt',
      turn({ system: `You are a guide. [session: ${S2} ] [conversation:${CONV}]` }),
      {},
      { kind: 'session', id: S2, source: 'prompt' },
    ],
    [
      '5. a conversation marker in the system prompt',
      turn({ system: `Be brief.\n[conversation:${CONV}]` }),
      {},
      { kind: 'conversation', id: CONV, source: 'prompt' },
    ],
  ])('%s', (_name, request, headers, expected) => {
    expect(findSessionRef(request, headers)).toEqual(expected);
  });
});

describe('ids of the wrong shape are skipped, and the next place is tried', () => {
  test.each([
    [
      'a path in the extra body',
      turn({ extra: { session_id: '../../etc' } }),
      { 'x-session-id': S1 },
      'header',
    ],
    ['a number in the extra body', turn({ extra: { session_id: 42 } }), { 'x-session-id': S1 }, 'header'],
    [
      'a short session id in the header',
      turn({ system: `[session:${S2}]` }),
      { 'x-session-id': 's_short' },
      'prompt',
    ],
    [
      'a conversation id with a slash',
      turn({ system: `[session:${S2}]` }),
      { 'x-conversation-id': 'conv/../x' },
      'prompt',
    ],
  ])('%s', (_name, request, headers, source) => {
    expect(findSessionRef(request, headers)?.source).toBe(source);
  });

  test('a marker in a user message is not a reference (users cannot name sessions)', () => {
    expect(findSessionRef(turn(), {})).toBeUndefined();
  });

  test('nothing anywhere: plain chat', () => {
    expect(findSessionRef(turn({ system: 'You can see.' }), {})).toBeUndefined();
  });
});

test('conversationKey: the reference as a key, kinds kept apart; none without one', () => {
  expect(conversationKey(turn({ extra: { session_id: S1 } }), {})).toBe(`session#${S1}`);
  expect(conversationKey(turn(), { 'x-conversation-id': CONV })).toBe(`conversation#${CONV}`);
  expect(conversationKey(turn(), {})).toBeUndefined();
});
