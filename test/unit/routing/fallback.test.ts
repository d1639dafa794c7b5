// The fallback layer over in-memory providers (the Provider interface, not a protocol):
// ordering, retries with retry-after, failover, first-byte timeouts, hedging, open breakers.
import { UpstreamError } from '../../../shared/errors';
import { chatRequestSchema } from '../../../shared/openai/schema';
import type { Provider, StreamEvent, TargetCall } from '../../../shared/providers/types';
import type { Admission, BreakerLike } from '../../../shared/routing/breaker-types';
import { noBreaker } from '../../../shared/routing/breaker-types';
import {
  AllTargetsFailedError,
  DEFAULT_FALLBACK_SETTINGS,
  openStream,
} from '../../../shared/routing/fallback';
import { backoffMs } from '../../../shared/routing/fallback-policy';
import { parseRoutes } from '../../../shared/routing/routes';

type Script = 'ok' | 'hang' | { fail: UpstreamError } | { delayMs: number };

function scripted(name: string, scripts: Script[]): Provider & { calls: TargetCall[] } {
  const calls: TargetCall[] = [];
  return {
    name,
    kind: 'openai',
    configured: true,
    calls,
    async *stream(call: TargetCall): AsyncGenerator<StreamEvent> {
      calls.push(call);
      const s = scripts[Math.min(calls.length - 1, scripts.length - 1)]!;
      if (s === 'hang') {
        await new Promise((_, reject) =>
          call.signal.addEventListener('abort', () => reject(call.signal.reason)),
        );
      }
      if (typeof s === 'object' && 'fail' in s) throw s.fail;
      if (typeof s === 'object' && 'delayMs' in s) await new Promise((r) => setTimeout(r, s.delayMs));
      yield { type: 'text', text: `from ${name}` };
      yield { type: 'finish', reason: 'stop' };
    },
  };
}

const request = chatRequestSchema.parse({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
const http500 = () =>
  new UpstreamError('boom', { upstreamStatus: 500, retryable: true, errorClass: 'http_5xx' });
const settings = { ...DEFAULT_FALLBACK_SETTINGS, backoffBaseMs: 1, backoffMaxMs: 5, firstByteTimeoutMs: 200 };

function routeOf(spec: unknown) {
  return parseRoutes(JSON.stringify({ m: spec }), new Set(['a', 'b', 'c'])).get('m')!;
}

function deps(providers: Provider[], breaker: BreakerLike = noBreaker) {
  return {
    providers: new Map(providers.map((p) => [p.name, p])),
    breaker,
    settings,
    signal: new AbortController().signal,
  };
}

test('the primary answers: one attempt, first event returned', async () => {
  const a = scripted('a', ['ok']);
  const s = await openStream(routeOf(['a:x', 'b:y']), request, deps([a, scripted('b', ['ok'])]));
  expect(s.first).toEqual({ type: 'text', text: 'from a' });
  expect(s.attempts.map((x) => [x.target, x.outcome])).toEqual([['a:x', 'ok']]);
  expect(a.calls[0]!.model).toBe('x');
});

test('a retryable error is retried once on the same target, then fails over', async () => {
  const a = scripted('a', [{ fail: http500() }]);
  const b = scripted('b', ['ok']);
  const s = await openStream(routeOf(['a:x', 'b:y']), request, deps([a, b]));
  expect(a.calls).toHaveLength(2);
  expect(s.target.id).toBe('b:y');
  expect(s.attempts.map((x) => [x.target, x.outcome, x.retry])).toEqual([
    ['a:x', 'failed', 0],
    ['a:x', 'failed', 1],
    ['b:y', 'ok', 0],
  ]);
});

test('retry-after is honoured before the retry', async () => {
  const a = scripted('a', [
    {
      fail: new UpstreamError('slow down', {
        status: 429,
        upstreamStatus: 429,
        retryable: true,
        retryAfterMs: 120,
        errorClass: 'http_429',
      }),
    },
    'ok',
  ]);
  const t0 = Date.now();
  const s = await openStream(routeOf(['a:x']), request, deps([a]));
  expect(s.target.id).toBe('a:x');
  expect(Date.now() - t0).toBeGreaterThanOrEqual(110);
});

test('backoff is jittered within [exp/2, exp] and never shorter than retry-after', () => {
  expect(backoffMs(1, DEFAULT_FALLBACK_SETTINGS, undefined, () => 0)).toBe(75);
  expect(backoffMs(1, DEFAULT_FALLBACK_SETTINGS, undefined, () => 1)).toBe(150);
  expect(backoffMs(3, DEFAULT_FALLBACK_SETTINGS, undefined, () => 1)).toBe(600);
  expect(backoffMs(1, DEFAULT_FALLBACK_SETTINGS, 5000, () => 1)).toBe(5000);
});

test('a hanging primary costs the first-byte timeout, then the fallback answers', async () => {
  const a = scripted('a', ['hang']);
  const t0 = Date.now();
  const s = await openStream(
    routeOf({ targets: ['a:x', 'b:y'], firstByteTimeoutMs: 150 }),
    request,
    deps([a, scripted('b', ['ok'])]),
  );
  const took = Date.now() - t0;
  expect(s.target.id).toBe('b:y');
  expect(s.attempts[0]).toMatchObject({ outcome: 'failed', errorClass: 'first_byte_timeout' });
  expect(took).toBeGreaterThanOrEqual(140);
  expect(took).toBeLessThan(150 + 150);
  expect(a.calls[0]!.signal.aborted).toBe(true);
});

test('hedging starts the next target after hedgeAfterMs and cancels the loser', async () => {
  const a = scripted('a', ['hang']);
  const b = scripted('b', ['ok']);
  const t0 = Date.now();
  const s = await openStream(
    routeOf({ targets: ['a:x', 'b:y'], firstByteTimeoutMs: 5000, hedgeAfterMs: 60 }),
    request,
    deps([a, b]),
  );
  expect(s.target.id).toBe('b:y');
  expect(Date.now() - t0).toBeLessThan(1000);
  expect(a.calls[0]!.signal.aborted).toBe(true);
  expect(s.attempts.map((x) => [x.target, x.outcome, x.hedge])).toEqual([
    ['a:x', 'hedge_lost', false],
    ['b:y', 'ok', true],
  ]);
});

test('when the primary answers before the hedge, the hedge never starts', async () => {
  const a = scripted('a', [{ delayMs: 5 }]);
  const b = scripted('b', ['ok']);
  const s = await openStream(routeOf({ targets: ['a:x', 'b:y'], hedgeAfterMs: 200 }), request, deps([a, b]));
  expect(s.target.id).toBe('a:x');
  expect(b.calls).toHaveLength(0);
});

test('open breakers are skipped; when all are open one 503 names every target', async () => {
  const open: BreakerLike = {
    admit: async (): Promise<Admission> => ({
      allowed: false,
      state: 'open',
      probe: false,
      retryAtMs: Date.parse('2030-01-01T00:00:00Z'),
    }),
    recordFailure: async () => {},
    recordSuccess: async () => {},
  };
  const err = await openStream(
    routeOf(['a:x', 'b:y']),
    request,
    deps([scripted('a', ['ok']), scripted('b', ['ok'])], open),
  ).catch((e) => e);
  expect(err).toBeInstanceOf(AllTargetsFailedError);
  expect(err.status).toBe(503);
  expect(err.message).toContain('a:x: circuit open until 2030-01-01T00:00:00.000Z');
  expect(err.message).toContain('b:y: circuit open');
});

test('failures are reported to the breaker; request errors (400) are not', async () => {
  const failures: string[] = [];
  const breaker: BreakerLike = {
    ...noBreaker,
    recordFailure: async (t, _a, cls) => void failures.push(`${t}:${cls}`),
  };
  const bad = new UpstreamError('bad image', {
    status: 400,
    upstreamStatus: 400,
    errorClass: 'http_4xx_request',
  });
  const err = await openStream(
    routeOf(['a:x', 'b:y']),
    request,
    deps([scripted('a', [{ fail: http500() }]), scripted('b', [{ fail: bad }])], breaker),
  ).catch((e) => e);
  expect(failures).toEqual(['a:x:http_5xx', 'a:x:http_5xx']);
  expect(err.status).toBe(502);
  expect(err.message).toMatch(/a:x: boom; b:y: bad image/);
});

test('every target refusing the request (400) gives a 400, not a 502', async () => {
  const bad = () =>
    new UpstreamError('image too large', {
      status: 400,
      upstreamStatus: 400,
      errorClass: 'http_4xx_request',
    });
  const err = await openStream(
    routeOf(['a:x', 'b:y']),
    request,
    deps([scripted('a', [{ fail: bad() }]), scripted('b', [{ fail: bad() }])]),
  ).catch((e) => e);
  expect(err.status).toBe(400);
});

test('the client going away stops everything', async () => {
  const ctrl = new AbortController();
  const a = scripted('a', ['hang']);
  const p = openStream(routeOf({ targets: ['a:x', 'b:y'], firstByteTimeoutMs: 5000 }), request, {
    ...deps([a, scripted('b', ['ok'])]),
    signal: ctrl.signal,
  });
  setTimeout(() => ctrl.abort(new Error('gone')), 30);
  const err = await p.catch((e) => e);
  expect(err.errorClass).toBe('aborted');
  expect(a.calls[0]!.signal.aborted).toBe(true);
});

// Regression (issue 9): the turn's signal used to be unlinked from an attempt once its first
// event arrived, so a client hanging up mid-answer never reached the upstream call.
test("after the first event, the turn's signal still aborts the winning stream; settling unlinks it", async () => {
  const ctrl = new AbortController();
  const a = scripted('a', ['ok']);
  await openStream(routeOf(['a:x']), request, { ...deps([a]), signal: ctrl.signal });
  ctrl.abort(new Error('gone'));
  expect(a.calls[0]!.signal.aborted).toBe(true);

  const later = new AbortController();
  const b = scripted('a', ['ok']);
  const settled = await openStream(routeOf(['a:x']), request, { ...deps([b]), signal: later.signal });
  settled.settle();
  later.abort(new Error('after the turn'));
  expect(b.calls[0]!.signal.aborted).toBe(false);
});

test('a client gone while the breaker admits an attempt: the attempt is aborted at once', async () => {
  const ctrl = new AbortController();
  const a = scripted('a', ['hang']);
  // The breaker's admit is where a turn waits (a DynamoDB read) just before an attempt starts.
  const admitThenHangUp: BreakerLike = {
    ...noBreaker,
    admit: async (t) => {
      const admission = await noBreaker.admit(t);
      ctrl.abort(new Error('gone'));
      return admission;
    },
  };
  const err = await openStream(routeOf({ targets: ['a:x'], firstByteTimeoutMs: 5000 }), request, {
    ...deps([a], admitThenHangUp),
    signal: ctrl.signal,
  }).catch((e) => e);
  expect(err.errorClass).toBe('aborted');
  // The upstream is never called (it used to be, and then hang until its first-byte timeout).
  expect(a.calls).toHaveLength(0);
});
