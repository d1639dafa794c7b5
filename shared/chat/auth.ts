// Bearer-token check for the chat endpoint, in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import { AuthError } from '../errors';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Throws AuthError unless `authorization` is `Bearer <expected>`. No key configured = open. */
export function checkBearer(authorization: string | undefined, expected: string | undefined): void {
  if (expected === undefined) return;
  const m = /^Bearer\s+(.+)$/i.exec(authorization?.trim() ?? '');
  if (!m) throw new AuthError('Missing bearer token: send "Authorization: Bearer <CHAT_API_KEY>".');
  // Hashing first makes the comparison constant-time regardless of the lengths involved.
  if (!timingSafeEqual(digest(m[1]!.trim()), digest(expected))) throw new AuthError('Invalid bearer token.');
}
