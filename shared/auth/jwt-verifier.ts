// Verifies browser JWTs against the identity provider's published keys (JWKS), with jose.
// The key set is fetched once per container and cached; an unknown `kid` triggers one refetch
// (rate-limited by jose's cooldown), so key rotation needs no redeploy.
//
// jose is loaded on first use: functions running the anonymous mode never load it at all,
// which keeps their cold start lean.
import type * as Jose from 'jose';
import { ApiError, AuthError } from '../errors';

export interface JwtVerifierOptions {
  issuer: string;
  audience: string;
  jwksUrl: string;
  /** Budget for one JWKS download. */
  timeoutMs?: number;
  /** Seconds of clock skew tolerated on exp/nbf/iat. */
  clockToleranceSeconds?: number;
}

export type VerifyJwt = (token: string) => Promise<{ sub: string }>;

/** Asymmetric only: a shared-secret (HS*) token would let anyone holding the secret mint users. */
export const ACCEPTED_JWT_ALGORITHMS = ['RS256', 'ES256'] as const;

const JWKS_CACHE_MAX_AGE_MS = 10 * 60_000;
const JWKS_COOLDOWN_MS = 30_000;

function invalid(message: string, code = 'invalid_token'): AuthError {
  return new AuthError(message, code);
}

/** One precise refusal per way a token can be wrong; an unreachable JWKS is our outage, not the caller's. */
function refusal(err: unknown, opts: JwtVerifierOptions, errors: typeof Jose.errors): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof errors.JWTExpired)
    return invalid('The token has expired. Sign in again.', 'token_expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return invalid(`The token was not issued by ${opts.issuer}.`);
    if (err.claim === 'aud')
      return invalid(`The token is not meant for this API (audience ${opts.audience}).`);
    if (err.claim === 'nbf') return invalid('The token is not valid yet.');
    return invalid(`The token's "${err.claim}" claim is missing or invalid.`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return invalid(`The token must be signed with ${ACCEPTED_JWT_ALGORITHMS.join(' or ')}.`);
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return invalid('The token is signed with a key the issuer does not publish.');
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return invalid('The token signature is invalid.');
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid)
    return invalid('The token is malformed.');
  // JWKSTimeout, JWKSInvalid, network failures: the caller did nothing wrong.
  return new ApiError(
    503,
    'service_unavailable',
    'The sign-in provider’s keys could not be loaded; try again shortly.',
    {
      code: 'auth_provider_unavailable',
      retryAfterSeconds: 5,
      cause: err,
    },
  );
}

export function createJwtVerifier(opts: JwtVerifierOptions): VerifyJwt {
  let loaded: Promise<{ jose: typeof Jose; keys: Jose.JWTVerifyGetKey }> | undefined;
  const load = () => {
    loaded ??= import('jose').then((jose) => ({
      jose,
      keys: jose.createRemoteJWKSet(new URL(opts.jwksUrl), {
        timeoutDuration: opts.timeoutMs ?? 3000,
        cacheMaxAge: JWKS_CACHE_MAX_AGE_MS,
        cooldownDuration: JWKS_COOLDOWN_MS,
      }),
    }));
    return loaded;
  };
  return async (token) => {
    const { jose, keys } = await load();
    try {
      const { payload } = await jose.jwtVerify(token, keys, {
        issuer: opts.issuer,
        audience: opts.audience,
        algorithms: [...ACCEPTED_JWT_ALGORITHMS],
        clockTolerance: opts.clockToleranceSeconds ?? 5,
        requiredClaims: ['sub', 'exp'],
      });
      if (typeof payload.sub !== 'string' || payload.sub === '' || payload.sub.length > 256) {
        throw invalid('The token has no usable "sub" claim.');
      }
      return { sub: payload.sub };
    } catch (err) {
      throw refusal(err, opts, jose.errors);
    }
  };
}
