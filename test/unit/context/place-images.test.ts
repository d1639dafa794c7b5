// placeImages: a session's images at stable places in the history. An image enters at the user
// turn where it was first seen and stays there, so the prefix is byte-identical turn after turn.
import { placeImages, userTurnAnchors } from '../../../shared/context/place-images';
import type { ChatMessage, ImageUrlPart } from '../../../shared/openai/schema';

const part = (name: string): ImageUrlPart => ({
  type: 'image_url',
  image_url: { url: `session-image:${name}` },
});
const user = (text: string): ChatMessage => ({ role: 'user', content: text });
const assistant = (text: string): ChatMessage => ({ role: 'assistant', content: text });
const system: ChatMessage = { role: 'system', content: 'You can see.' };

/** Where each image ended up: the message index and the image names in order. */
function where(messages: readonly ChatMessage[]): [number, string[]][] {
  const out: [number, string[]][] = [];
  messages.forEach((m, i) => {
    if (m.role !== 'user' || typeof m.content === 'string') return;
    const names = m.content.flatMap((p) => (p.type === 'image_url' ? [p.image_url.url.slice(14)] : []));
    if (names.length > 0) out.push([i, names]);
  });
  return out;
}

test('user turns are labelled by their text and its occurrence, not by their index', () => {
  const a = userTurnAnchors([system, user('yes'), assistant('ok'), user('yes')]);
  expect(a.map((t) => t.index)).toEqual([1, 3]);
  expect(a[0]!.anchor).toMatch(/^[0-9a-f]{16}#1$/);
  expect(a[1]!.anchor).toBe(a[0]!.anchor.replace('#1', '#2'));
  // Trimming the front of the history keeps the labels of what remains.
  const trimmed = userTurnAnchors([user('yes'), assistant('ok'), user('look')]);
  expect(trimmed[0]!.anchor).toBe(a[0]!.anchor);
});

test('an unanchored image goes to the latest user turn and its new anchor is reported', () => {
  const history = [system, user('hi'), assistant('hello'), user('what is this?')];
  const { messages, newAnchors } = placeImages(history, [{ imageId: 'img_1', part: part('one') }]);
  expect(where(messages)).toEqual([[3, ['one']]]);
  expect(newAnchors).toEqual([{ imageId: 'img_1', anchor: userTurnAnchors(history)[1]!.anchor }]);
  // The text comes first, then the image; the input is not mutated.
  expect(messages[3]).toEqual({
    role: 'user',
    content: [{ type: 'text', text: 'what is this?' }, part('one')],
  });
  expect(history[3]).toEqual(user('what is this?'));
});

test('on the next turn the image stays where it entered: the prefix is byte-identical', () => {
  const turn1 = [system, user('what is this?')];
  const first = placeImages(turn1, [{ imageId: 'img_1', part: part('one') }]);
  const anchor = first.newAnchors[0]!.anchor;
  const turn2 = [...turn1, assistant('A cat.'), user('and its colour?')];
  const second = placeImages(turn2, [{ imageId: 'img_1', anchor, part: part('one') }]);
  expect(second.newAnchors).toEqual([]);
  expect(JSON.stringify(second.messages.slice(0, 2))).toBe(JSON.stringify(first.messages));
});

test('images keep their order within a turn; anchored and new ones side by side', () => {
  const history = [user('first'), assistant('ok'), user('second')];
  const [first] = userTurnAnchors(history);
  const { messages } = placeImages(history, [
    { imageId: 'a', anchor: first!.anchor, part: part('a') },
    { imageId: 'b', part: part('b') },
    { imageId: 'c', anchor: first!.anchor, part: part('c') },
    { imageId: 'd', part: part('d') },
  ]);
  expect(where(messages)).toEqual([
    [0, ['a', 'c']],
    [2, ['b', 'd']],
  ]);
});

test('an anchor trimmed out of the history places the image at the first user turn', () => {
  const { messages, newAnchors } = placeImages(
    [user('later'), assistant('ok'), user('now')],
    [{ imageId: 'a', anchor: 'ffffffffffffffff#1', part: part('a') }],
  );
  expect(where(messages)).toEqual([[0, ['a']]]);
  expect(newAnchors).toEqual([]);
});

test('no user turn yet (an upload before the first words): the images form one', () => {
  const { messages, newAnchors } = placeImages(
    [system],
    [
      { imageId: 'a', part: part('a') },
      { imageId: 'b', part: part('b') },
    ],
  );
  expect(messages).toEqual([system, { role: 'user', content: [part('a'), part('b')] }]);
  expect(newAnchors).toEqual([]);
});

test('no images: the messages unchanged', () => {
  const history = [system, user('hi')];
  expect(placeImages(history, [])).toEqual({ messages: history, newAnchors: [] });
});

test('a user turn that already has parts keeps them, the images after', () => {
  const withPart: ChatMessage = { role: 'user', content: [{ type: 'text', text: 'see' }, part('own')] };
  const { messages } = placeImages([withPart], [{ imageId: 'a', part: part('a') }]);
  expect(where(messages)).toEqual([[0, ['own', 'a']]]);
});
