import {
  isConversationId,
  isImageId,
  isSessionId,
  isSlot,
  newImageId,
  newSessionId,
} from '../../../shared/sessions/ids';
import { hashSessionSecret, newSessionSecret, sessionSecretMatches } from '../../../shared/sessions/secret';

test('new ids are 128 random bits, url-safe, and pass their own check', () => {
  const sessions = new Set(Array.from({ length: 200 }, newSessionId));
  expect(sessions.size).toBe(200);
  for (const id of sessions) expect(isSessionId(id)).toBe(true);
  const image = newImageId();
  expect(image).toMatch(/^img_[A-Za-z0-9_-]{22}$/);
  expect(isImageId(image)).toBe(true);
  expect(isSessionId(image)).toBe(false);
});

test.each([
  '../../etc/passwd',
  's_../../AAAAAAAAAAAAAAAA',
  's_AAAAAAAAAAAAAAAAAAAAA',
  's_AAAAAAAAAAAAAAAAAAAAAAA',
  's_AAAAAAAAAAAAAAAAAAAA/A',
  's_AAAAAAAAAAAAAAAAAAAA%2F',
  's_AAAAAAAAAAAAAAAAAAAAA\n',
  'S_AAAAAAAAAAAAAAAAAAAAAA',
  '',
])('session id %j is refused', (id) => {
  expect(isSessionId(id)).toBe(false);
});

test.each(['img_../../x', 'img_AAAAAAAAAAAAAAAAAAAAA.', 'img_', 'IMG_AAAAAAAAAAAAAAAAAAAAAA'])(
  'image id %j is refused',
  (id) => {
    expect(isImageId(id)).toBe(false);
  },
);

test('conversation ids: ElevenLabs-like ids pass, path-like ones do not', () => {
  expect(isConversationId('conv_01jx7f3a9bexq0z3m1y6v6t0kz')).toBe(true);
  for (const bad of ['../conv', 'conv id', 'conv/1', '', 'abc', 'x'.repeat(129)])
    expect(isConversationId(bad)).toBe(false);
});

test('slots are short names', () => {
  expect(isSlot('canvas')).toBe(true);
  expect(isSlot('camera-2.front_left')).toBe(true);
  for (const bad of ['', '../x', '.hidden', 'a b', 'x'.repeat(65)]) expect(isSlot(bad)).toBe(false);
});

test('session secrets: 256 bits, stored as a SHA-256 hash, compared exactly', () => {
  const secret = newSessionSecret();
  expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  const hash = hashSessionSecret(secret);
  expect(hash).toMatch(/^[0-9a-f]{64}$/);
  expect(sessionSecretMatches(hash, secret)).toBe(true);
  expect(sessionSecretMatches(hash, newSessionSecret())).toBe(false);
  const lastFlipped = `${secret.slice(0, 42)}${secret.endsWith('A') ? 'B' : 'A'}`;
  expect(sessionSecretMatches(hash, lastFlipped)).toBe(false);
  expect(sessionSecretMatches(hash, '')).toBe(false);
  expect(sessionSecretMatches(hash, hash)).toBe(false);
});
