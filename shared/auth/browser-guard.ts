// The one entry check of every browser-facing route: who is calling (and are they allowed
// to), what it costs from their rate allowance, and for session-scoped routes whether they
// hold the session. Routes call this first and do nothing else before it passes.
import type { HttpRequest } from '../http/types';
import type { SessionStore } from '../sessions/store';
import type { SessionRecord } from '../sessions/types';
import type { AuthenticateCaller } from './authenticate';
import type { EnforceRateLimit, EnforceSessionRateLimit } from './rate-limits';
import { assertSessionIdFormat, authorizeSessionAccess } from './session-access';
import type { Caller, RateLimitedAction } from './types';

export interface BrowserGuard {
  /** Authenticates the caller and spends `action` from its allowance. */
  admit(req: HttpRequest, action: RateLimitedAction): Promise<Caller>;
  /** As `admit`, then requires the session's secret (and owner); malformed ids fail before any I/O. */
  admitToSession(
    req: HttpRequest,
    sessionId: string,
    action: RateLimitedAction,
    opts?: { allowExpired?: boolean },
  ): Promise<{ caller: Caller; session: SessionRecord }>;
}

export function createBrowserGuard(deps: {
  authenticate: AuthenticateCaller;
  enforceRateLimit: EnforceRateLimit;
  enforceSessionRateLimit?: EnforceSessionRateLimit;
  store: SessionStore;
}): BrowserGuard {
  const admit = async (req: HttpRequest, action: RateLimitedAction) => {
    const caller = await deps.authenticate(req);
    await deps.enforceRateLimit(caller, action);
    return caller;
  };
  return {
    admit,
    async admitToSession(req, sessionId, action, opts = {}) {
      assertSessionIdFormat(sessionId);
      const caller = await admit(req, action);
      const session = await authorizeSessionAccess(deps.store, req, sessionId, caller, opts);
      await deps.enforceSessionRateLimit?.(sessionId, action);
      return { caller, session };
    },
  };
}
