// What the fallback layer needs from a circuit breaker. The DynamoDB-backed one lives in
// breaker.ts; `noBreaker` admits everything (tests, and hosts without a control table).

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface Admission {
  allowed: boolean;
  state: BreakerState;
  /** True when this call is the single half-open probe. */
  probe: boolean;
  /** When an open breaker will admit a probe (epoch ms). */
  retryAtMs?: number;
}

export interface BreakerLike {
  admit(target: string): Promise<Admission>;
  recordSuccess(target: string, admission: Admission): Promise<void>;
  recordFailure(target: string, admission: Admission, errorClass: string): Promise<void>;
}

export const noBreaker: BreakerLike = {
  admit: async () => ({ allowed: true, state: 'closed', probe: false }),
  recordSuccess: async () => {},
  recordFailure: async () => {},
};
