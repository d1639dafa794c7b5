// The decisions of opening a turn's stream, as tables: what to do after a failed attempt, when to
// hedge, which targets to skip, the first-byte timeout, and the error a turn gets when no target
// answered. The runner that acts on them is tested in fallback.test.ts and test/integration/resilience.
import { UpstreamError } from '../../../shared/errors';
import { LOCAL_INTERNAL_ERROR, LOCAL_INVALID_REQUEST } from '../../../shared/providers/upstream-error';
import { DEFAULT_FALLBACK_SETTINGS } from '../../../shared/routing/fallback';
import {
  afterFailure,
  type FailedAttempt,
  firstByteTimeoutMs,
  hedgeDueAt,
  type NextStep,
  type OpeningState,
  skipRefused,
  skipUnusable,
  type TargetFailure,
  turnFailure,
} from '../../../shared/routing/fallback-policy';
import { parseRoutes } from '../../../shared/routing/routes';

const s = { ...DEFAULT_FALLBACK_SETTINGS, maxRetriesPerTarget: 1, backoffBaseMs: 100, backoffMaxMs: 1000 };
/** Jitter at its low end: the backoff of the first retry is then exactly 50 ms. */
const random = () => 0;

const retryable: FailedAttempt = { retryable: true, retry: 0, probe: false };
const fatal: FailedAttempt = { retryable: false, retry: 0, probe: false };
const fresh: OpeningState = { now: 0, deadline: 10_000, aborted: false, othersRunning: 0, targetsLeft: true };

describe('after a failed attempt', () => {
  const rows: [string, FailedAttempt, Partial<OpeningState>, NextStep][] = [
    ['a retryable error is retried after the backoff', retryable, {}, { kind: 'retry', delayMs: 50 }],
    [
      "the server's retry-after wins when it is longer",
      { ...retryable, retryAfterMs: 700 },
      {},
      { kind: 'retry', delayMs: 700 },
    ],
    ['retries per target are bounded', { ...retryable, retry: 1 }, {}, { kind: 'fail_over' }],
    [
      'a half-open probe is never retried (it would be a second probe)',
      { ...retryable, probe: true },
      {},
      { kind: 'fail_over' },
    ],
    [
      'a retry that would end past the turn budget fails over instead',
      retryable,
      { now: 9_960 },
      { kind: 'fail_over' },
    ],
    [
      'a retry-after past the budget fails over',
      { ...retryable, retryAfterMs: 20_000 },
      {},
      { kind: 'fail_over' },
    ],
    ['a non-retryable error fails over', fatal, {}, { kind: 'fail_over' }],
    ['with a hedge still running, its result decides', fatal, { othersRunning: 1 }, { kind: 'wait' }],
    [
      'a retry goes before waiting for the hedge',
      retryable,
      { othersRunning: 1 },
      { kind: 'retry', delayMs: 50 },
    ],
    ['no target left: give up', fatal, { targetsLeft: false }, { kind: 'give_up' }],
    ['the budget spent: give up', fatal, { now: 10_000 }, { kind: 'give_up' }],
    ['a stopped turn stops, whatever the error', retryable, { aborted: true }, { kind: 'stop' }],
    [
      'a stopped turn stops with a hedge running too',
      fatal,
      { aborted: true, othersRunning: 1 },
      { kind: 'stop' },
    ],
  ];
  test.each(rows)('%s', (_name, failed, at, expected) => {
    expect(afterFailure(failed, { ...fresh, ...at }, s, random)).toEqual(expected);
  });

  test('the backoff doubles per retry, jittered within its upper half, capped', () => {
    const more = { ...s, maxRetriesPerTarget: 5 };
    const delay = (retry: number, r: number) => {
      const step = afterFailure({ ...retryable, retry }, fresh, more, () => r);
      return step.kind === 'retry' ? step.delayMs : undefined;
    };
    expect([0, 1, 2, 3, 4].map((n) => delay(n, 0))).toEqual([50, 100, 200, 400, 500]);
    expect([0, 1, 2, 3, 4].map((n) => delay(n, 1))).toEqual([100, 200, 400, 800, 1000]);
  });
});

describe('hedging', () => {
  const one = [{ startedAt: 1_000 }];
  const rows: [string, number | undefined, boolean, { startedAt: number }[], boolean, number | undefined][] =
    [
      ['due hedgeAfterMs after the only running attempt started', 300, false, one, true, 1_300],
      ['not configured: never', undefined, false, one, true, undefined],
      ['once per turn', 300, true, one, true, undefined],
      ['not while two attempts race already', 300, false, [...one, { startedAt: 1_100 }], true, undefined],
      ['not without a target left to race', 300, false, one, false, undefined],
    ];
  test.each(rows)('%s', (_name, after, hedged, running, left, expected) => {
    expect(hedgeDueAt(after, hedged, running, left)).toBe(expected);
  });
});

describe('skipped targets', () => {
  test.each([
    ['unknown provider', undefined, 'unknown provider'],
    ['no key', { configured: false }, 'not configured (no API key, or disabled)'],
  ])('%s is skipped as unconfigured', (_name, provider, detail) => {
    expect(skipUnusable(provider)).toEqual({ outcome: 'skipped_unconfigured', detail });
  });

  test('a configured provider is not skipped before the breaker is asked', () => {
    expect(skipUnusable({ configured: true })).toBeUndefined();
  });

  test('a breaker that refuses skips the target, naming its state and until when', () => {
    expect(skipRefused({ allowed: true, state: 'closed', probe: false })).toBeUndefined();
    expect(
      skipRefused({ allowed: false, state: 'open', probe: false, retryAtMs: Date.UTC(2026, 0, 1) }),
    ).toEqual({
      outcome: 'skipped_open',
      detail: 'circuit open until 2026-01-01T00:00:00.000Z',
    });
    expect(skipRefused({ allowed: false, state: 'half_open', probe: false })).toEqual({
      outcome: 'skipped_open',
      detail: 'circuit half_open',
    });
  });
});

describe('first-byte timeout', () => {
  const routes = parseRoutes(
    JSON.stringify({
      plain: { targets: ['openai:gpt-4o'] },
      routed: { targets: ['openai:gpt-4o'], firstByteTimeoutMs: 3_000 },
      targeted: {
        targets: [{ target: 'openai:gpt-4o', firstByteTimeoutMs: 1_000 }],
        firstByteTimeoutMs: 3_000,
      },
    }),
    new Set(['openai']),
  );
  const timeout = (name: string, msLeft = 60_000) => {
    const route = routes.get(name)!;
    return firstByteTimeoutMs(route.targets[0]!, route, s, msLeft);
  };
  test('the target wins over the route, the route over the default', () => {
    expect([timeout('plain'), timeout('routed'), timeout('targeted')]).toEqual([
      s.firstByteTimeoutMs,
      3_000,
      1_000,
    ]);
  });
  test('never past the turn budget, never zero', () => {
    expect(timeout('routed', 500)).toBe(500);
    expect(timeout('routed', -20)).toBe(1);
  });
});

describe('the error of a turn no target answered', () => {
  const route = parseRoutes(JSON.stringify({ m: { targets: ['openai:a'] } }), new Set(['openai'])).get('m')!;
  const upstream = (status: 400 | 429 | 502 | 504, extra: Partial<{ retryAfterMs: number }> = {}) =>
    new UpstreamError(`status ${status}`, { status, errorClass: `e${status}`, ...extra });
  const local = (errorClass: string) =>
    new UpstreamError('bad tools', { status: 400, errorClass, code: 'invalid_value', param: 'tools' });
  const failed = (...errors: UpstreamError[]): TargetFailure[] =>
    errors.map((error, i) => ({ target: `t${i}`, detail: error.message, error }));

  const rows: [string, TargetFailure[], boolean, Record<string, unknown>][] = [
    [
      'every target skipped: 503',
      [{ target: 't0', detail: 'circuit open' }],
      false,
      { status: 503, errorClass: 'all_targets_unavailable' },
    ],
    [
      'all 400: a 400',
      failed(upstream(400), upstream(400)),
      false,
      { status: 400, code: 'upstream_invalid_request' },
    ],
    [
      'all 429: a 429 with the longest wait',
      failed(upstream(429, { retryAfterMs: 2_000 }), upstream(429)),
      false,
      { status: 429, retryAfterMs: 2_000 },
    ],
    [
      'all timed out: 504',
      failed(upstream(504), upstream(504)),
      false,
      { status: 504, code: 'all_targets_failed' },
    ],
    ['a mix: 502', failed(upstream(504), upstream(502)), false, { status: 502, code: 'all_targets_failed' }],
    [
      'a skip beside a 400 is not all 400s: 502',
      [{ target: 'x', detail: 'skipped' }, ...failed(upstream(400))],
      false,
      { status: 502 },
    ],
    [
      "the caller's request refused before any upstream: its 400, field named",
      failed(local(LOCAL_INVALID_REQUEST)),
      false,
      { status: 400, param: 'tools', code: 'invalid_value' },
    ],
    [
      'our own failure before any upstream: 500',
      failed(local(LOCAL_INVALID_REQUEST), local(LOCAL_INTERNAL_ERROR)),
      false,
      { status: 500, param: null },
    ],
  ];
  test.each(rows)('%s', (_name, failures, budgetSpent, expected) => {
    const { opts } = turnFailure(route, failures, budgetSpent);
    expect(opts).toMatchObject(expected);
  });

  test('the message names every target and whether the budget ran out', () => {
    const f = failed(upstream(502), upstream(504));
    expect(turnFailure(route, f, true).message).toBe(
      'No provider could answer model route "m" within the turn budget: t0: status 502; t1: status 504',
    );
    expect(turnFailure(route, f, false).message).not.toContain('budget');
  });
});
