// The session secret: returned once by POST /sessions, stored only as a SHA-256 hash, and
// required on every session-scoped call, because the session id alone travels to ElevenLabs
// and into logs and must grant nothing.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 random bits, base64url: 43 characters. */
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newSessionSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSessionSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * Constant time in the secret's content: both sides are compared as fixed-length hashes, so
 * neither a byte-by-byte match nor the length of the stored secret can be timed.
 */
export function sessionSecretMatches(storedHash: string, presented: string): boolean {
  if (!SECRET_PATTERN.test(presented)) return false;
  const expected = Buffer.from(storedHash, 'hex');
  const actual = createHash('sha256').update(presented, 'utf8').digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
