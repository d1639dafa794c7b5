// Decides who a browser-facing request comes from, before anything else runs: a verified JWT
// subject, or (anonymous mode) any caller on an allowed Origin, known by IP.
import type { HttpRequest } from '../http/types';
import { bearerToken } from './bearer-token';
import type { VerifyJwt } from './jwt-verifier';
import { assertOriginAllowed, requestOrigin } from './origin-policy';
import type { BrowserAuthConfig, Caller } from './types';

export type AuthenticateCaller = (req: HttpRequest) => Promise<Caller>;

export function createCallerAuthenticator(
  config: BrowserAuthConfig,
  verifyJwt: VerifyJwt | undefined,
): AuthenticateCaller {
  if (config.mode === 'anonymous') {
    return async (req) => {
      // Without a login, the Origin is all that ties a request to the product's own pages.
      assertOriginAllowed(requestOrigin(req.headers, config.allowedOrigins), config.allowedOrigins, {
        required: true,
      });
      return { kind: 'anonymous', ip: req.sourceIp };
    };
  }
  if (!verifyJwt) throw new Error('jwt auth mode needs a JWT verifier');
  return async (req) => {
    // Server-side callers send no Origin; a browser on a foreign page is refused when a list is set.
    assertOriginAllowed(req.headers.origin, config.allowedOrigins, { required: false });
    const { sub } = await verifyJwt(bearerToken(req.headers));
    return { kind: 'user', sub, ip: req.sourceIp };
  };
}
