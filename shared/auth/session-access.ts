// The gate in front of every /sessions/{id}/... call. The session id travels to ElevenLabs and
// into logs, so it grants nothing alone: the caller must also present the session secret
// (`x-session-secret`), and with JWTs be the session's owner.
//
// Order of refusals: malformed id 400; unknown 404; missing secret 401; wrong secret 403;
// wrong owner 403; expired 410 (only after the secret matched, so expiry leaks to no one else).
import { AuthError, ForbiddenError } from '../errors';
import type { HttpRequest } from '../http/types';
import { invalidSessionId, sessionExpired, sessionNotFound } from '../sessions/errors';
import { isSessionId } from '../sessions/ids';
import type { SessionStore } from '../sessions/store';
import type { SessionRecord } from '../sessions/types';
import type { Caller } from './types';

export const SESSION_SECRET_HEADER = 'x-session-secret';

export function assertSessionIdFormat(sessionId: string): void {
  if (!isSessionId(sessionId)) throw invalidSessionId();
}

export async function authorizeSessionAccess(
  store: SessionStore,
  req: HttpRequest,
  sessionId: string,
  caller: Caller,
  opts: { allowExpired?: boolean } = {},
): Promise<SessionRecord> {
  assertSessionIdFormat(sessionId);
  const found = await store.lookupSession(sessionId);
  if (found.state === 'missing') throw sessionNotFound();
  const secret = req.headers[SESSION_SECRET_HEADER];
  if (secret === undefined || secret === '') {
    throw new AuthError(
      `Session calls need the session secret in the ${SESSION_SECRET_HEADER} header.`,
      'session_secret_required',
    );
  }
  if (!store.verifySecret(found.session, secret)) {
    throw new ForbiddenError('The session secret does not match this session.', 'invalid_session_secret');
  }
  const owner = found.session.ownerSub;
  if (owner !== undefined && (caller.kind !== 'user' || caller.sub !== owner)) {
    throw new ForbiddenError('This session belongs to another user.', 'session_owner_mismatch');
  }
  if (found.state === 'expired' && !opts.allowExpired) throw sessionExpired();
  return found.session;
}
