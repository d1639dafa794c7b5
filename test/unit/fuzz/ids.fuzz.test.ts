// Fuzzes the id and slot validators: what they accept is always safe to put in a key, a path
// or a log line, whatever string arrives; what the server mints is always accepted.
import fc from 'fast-check';
import {
  isConversationId,
  isImageId,
  isSessionId,
  isSlot,
  newImageId,
  newSessionId,
} from '../../../shared/sessions/ids';
import { fuzz } from './fuzz-settings';

const SAFE = /^[A-Za-z0-9_.-]+$/;
const anyString = fc.oneof(fc.string({ maxLength: 140 }), fc.string({ unit: 'binary', maxLength: 80 }));

test('accepted ids and slots contain only key-safe characters, within their lengths', () => {
  fc.assert(
    fc.property(anyString, (s) => {
      if (isSessionId(s)) expect(s).toMatch(/^s_[A-Za-z0-9_-]{22}$/);
      if (isImageId(s)) expect(s).toMatch(/^img_[A-Za-z0-9_-]{22}$/);
      if (isConversationId(s))
        expect(s.length >= 6 && s.length <= 128 && SAFE.test(s) && !s.includes('.')).toBe(true);
      if (isSlot(s))
        expect(s.length <= 64 && SAFE.test(s) && !s.startsWith('.') && !s.includes('/')).toBe(true);
    }),
    fuzz(1000),
  );
});

test('minted ids are accepted; any change of one character to an unsafe one is refused', () => {
  const unsafe = fc.constantFrom('/', '.', ' ', '\n', '%', '\\', '\u0000', 'é', '\u202e', '?', '#');
  fc.assert(
    fc.property(fc.nat(), unsafe, (at, ch) => {
      const session = newSessionId();
      const image = newImageId();
      expect(isSessionId(session)).toBe(true);
      expect(isImageId(image)).toBe(true);
      const i = at % session.length;
      expect(isSessionId(session.slice(0, i) + ch + session.slice(i + 1))).toBe(false);
      expect(isSessionId(`${session}\n`)).toBe(false);
      expect(isImageId(`${image.slice(0, -1)}${ch}`)).toBe(false);
    }),
    fuzz(300),
  );
});

test('slots: any safe name is accepted; path-like or padded names are refused', () => {
  const safeChar = fc.constantFrom(...'abcXYZ019_.-'.split(''));
  const alnum = fc.constantFrom(...'aZ09'.split(''));
  fc.assert(
    fc.property(alnum, fc.array(safeChar, { maxLength: 63 }), (first, rest) => {
      const slot = first + rest.join('');
      expect(isSlot(slot)).toBe(true);
      expect(isSlot(`${slot}/x`)).toBe(false);
      expect(isSlot(`../${slot}`)).toBe(false);
      expect(isSlot(` ${slot}`)).toBe(false);
      expect(isSlot(`${slot}\n`)).toBe(false);
    }),
    fuzz(300),
  );
});
