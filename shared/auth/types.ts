// Who is calling the browser-facing API, and how that is decided.

/**
 * 'jwt': every call carries `Authorization: Bearer <JWT>` from the product's identity provider;
 * its `sub` owns the sessions it creates. 'anonymous' (explicit opt-in): no login, but calls
 * must come from an allowed Origin, and every IP is rate-limited.
 */
export type BrowserAuthConfig =
  | {
      mode: 'jwt';
      issuer: string;
      audience: string;
      jwksUrl: string;
      /** Origins allowed to call; empty = any (the token is the credential). */
      allowedOrigins: readonly string[];
    }
  | { mode: 'anonymous'; allowedOrigins: readonly string[] };

export type Caller = { kind: 'user'; sub: string; ip: string } | { kind: 'anonymous'; ip: string };

/** Per-minute allowances, counted per user (jwt) or per IP (anonymous). */
export interface BrowserRateLimits {
  sessionsPerMinute: number;
  uploadsPerMinute: number;
  requestsPerMinute: number;
  /**
   * Images added to one session per minute, whoever adds them: a camera streaming frames into a
   * slot, or a leaked session secret used from many addresses, cannot flood one conversation.
   */
  uploadsPerSessionPerMinute?: number;
}

/** What a call spends from its caller's allowance. */
export type RateLimitedAction = 'create_session' | 'create_image' | 'session_call';

/** The caller's identity as the session owner: present for JWT users only. */
export function ownerOf(caller: Caller): string | undefined {
  return caller.kind === 'user' ? caller.sub : undefined;
}
