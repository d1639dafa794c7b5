// The circuit breaker's state machine against the embedded DynamoDB, with several "containers"
// (breaker instances with their own caches) sharing one control table.
import { type Emulators, startEmulators } from '../../../infra/local/emulators';
import type { Admission, CircuitBreaker } from '../../../shared/routing/breaker';
import { CONTROL_TABLE, type Container, container, freshTarget, TestClock } from './breaker-harness';

const MINUTE = 60_000;
// A minute boundary, so bucket arithmetic in the tests is easy to follow.
const T0 = 28_333_334 * MINUTE;

let emu: Emulators;
beforeAll(async () => {
  emu = await startEmulators({ tables: [CONTROL_TABLE], buckets: [] });
});
afterAll(() => emu.close());

async function fail(breaker: CircuitBreaker, target: string, errorClass = 'http_5xx'): Promise<Admission> {
  const admission = await breaker.admit(target);
  expect(admission.allowed).toBe(true);
  await breaker.recordFailure(target, admission, errorClass);
  return admission;
}

/** Opens `target` from `c` with threshold failures 10 s apart; returns when it opened. */
async function openIt(c: Container, clock: TestClock, target: string): Promise<number> {
  for (let i = 0; i < 5; i++) {
    if (i > 0) clock.advance(10_000);
    await fail(c.breaker, target);
  }
  return clock.ms;
}

test('five failures within the window open the breaker; open calls are refused with retryAtMs', async () => {
  const clock = new TestClock(T0);
  const c = container(emu, clock);
  const target = freshTarget('open');
  for (let i = 0; i < 4; i++) {
    await fail(c.breaker, target, i === 3 ? 'timeout' : 'http_5xx');
    clock.advance(30_000);
  }
  expect(await c.breaker.admit(target)).toMatchObject({ allowed: true, state: 'closed' });
  const fifthAt = clock.ms;
  await fail(c.breaker, target, 'connection');

  const refused = await c.breaker.admit(target);
  expect(refused).toEqual({ allowed: false, state: 'open', probe: false, retryAtMs: fifthAt + 30_000 });
  expect(c.logs.filter((l) => l.message === 'circuit breaker opened')).toHaveLength(1);

  const health = await c.breaker.snapshot([target]);
  expect(health[target]).toEqual({
    state: 'open',
    recentFailures: 5,
    lastErrorClass: 'connection',
    lastFailureAt: fifthAt,
    openUntil: fifthAt + 30_000,
  });
});

test('failures spread over more than the window never open it', async () => {
  const clock = new TestClock(T0);
  const c = container(emu, clock);
  const target = freshTarget('spread');
  // Twelve failures, one every 2.5 minutes: any 10-minute window holds at most four.
  for (let i = 0; i < 12; i++) {
    await fail(c.breaker, target);
    clock.advance(2.5 * MINUTE);
  }
  expect(await c.breaker.admit(target)).toMatchObject({ allowed: true, state: 'closed' });
  const health = await c.breaker.snapshot([target]);
  expect(health[target]?.state).toBe('closed');
  expect(health[target]?.recentFailures).toBeLessThanOrEqual(4);
  expect(c.logs.some((l) => l.message === 'circuit breaker opened')).toBe(false);
});

test('failures recorded concurrently by several containers open the breaker exactly once', async () => {
  const clock = new TestClock(T0);
  const containers = Array.from({ length: 5 }, () => container(emu, clock));
  const target = freshTarget('concurrent-open');
  const admissions = await Promise.all(containers.map((c) => c.breaker.admit(target)));
  await Promise.all(containers.map((c, i) => c.breaker.recordFailure(target, admissions[i]!, 'http_5xx')));
  const opened = containers.flatMap((c) => c.logs).filter((l) => l.message === 'circuit breaker opened');
  expect(opened).toHaveLength(1);
  clock.advance(1_001);
  for (const c of containers)
    expect(await c.breaker.admit(target)).toMatchObject({ allowed: false, state: 'open' });
});

test('after the cooldown exactly one of 50 concurrent callers in 5 containers gets the probe', async () => {
  const clock = new TestClock(T0);
  const opener = container(emu, clock);
  const target = freshTarget('probe-race');
  const openedAt = await openIt(opener, clock, target);

  const containers = Array.from({ length: 5 }, () => container(emu, clock));
  // Every container has seen the open state, so their caches hold it when the cooldown ends.
  for (const c of containers)
    expect(await c.breaker.admit(target)).toMatchObject({ allowed: false, state: 'open' });
  clock.ms = openedAt + 30_000;

  const admissions = await Promise.all(
    containers.flatMap((c) => Array.from({ length: 10 }, () => c.breaker.admit(target))),
  );
  const probes = admissions.filter((a) => a.probe);
  expect(probes).toHaveLength(1);
  expect(probes[0]).toMatchObject({ allowed: true, state: 'half_open', probe: true });
  const others = admissions.filter((a) => !a.probe);
  expect(others).toHaveLength(49);
  for (const a of others) {
    expect(a.allowed).toBe(false);
    expect(a.state).toBe('half_open');
    expect(a.retryAtMs).toBe(openedAt + 30_000 + 15_000);
  }
  // One lease attempt per container at most, not one per caller.
  const attempts = containers.reduce((n, c) => n + c.sends.writes, 0);
  expect(attempts).toBeLessThanOrEqual(5);
});

test('a successful probe closes the breaker and resets the counters', async () => {
  const clock = new TestClock(T0);
  const a = container(emu, clock);
  const b = container(emu, clock);
  const target = freshTarget('probe-ok');
  const openedAt = await openIt(a, clock, target);
  clock.ms = openedAt + 30_000;

  const probe = await b.breaker.admit(target);
  expect(probe.probe).toBe(true);
  await b.breaker.recordSuccess(target, probe);
  expect(await b.breaker.admit(target)).toMatchObject({ allowed: true, state: 'closed', probe: false });
  expect(b.logs.some((l) => l.message === 'circuit breaker closed: probe succeeded')).toBe(true);

  clock.advance(1_001);
  expect(await a.breaker.admit(target)).toMatchObject({ allowed: true, state: 'closed' });
  const health = await a.breaker.snapshot([target]);
  expect(health[target]).toMatchObject({ state: 'closed', recentFailures: 0 });
  expect(health[target]?.openUntil).toBeUndefined();

  // Counting starts from zero: four new failures in the same minutes do not re-open it...
  for (let i = 0; i < 4; i++) await fail(a.breaker, target);
  clock.advance(1_001);
  expect(await b.breaker.admit(target)).toMatchObject({ allowed: true, state: 'closed' });
  // ...and the cooldown is back to its base once it does.
  const reopenedAt = clock.ms;
  await fail(a.breaker, target);
  expect(await a.breaker.admit(target)).toMatchObject({
    allowed: false,
    state: 'open',
    retryAtMs: reopenedAt + 30_000,
  });
});

test('a failure of a call admitted before the reset does not count against the fresh state', async () => {
  const clock = new TestClock(T0);
  const c = container(emu, clock);
  const target = freshTarget('late-failure');
  const early = await c.breaker.admit(target);
  const openedAt = await openIt(c, clock, target);
  clock.ms = openedAt + 30_000;
  const probe = await c.breaker.admit(target);
  await c.breaker.recordSuccess(target, probe);
  await c.breaker.recordFailure(target, early, 'timeout');
  expect((await c.breaker.snapshot([target]))[target]?.recentFailures).toBe(0);
});

test('a failed probe re-opens with a doubled cooldown, and doubles again', async () => {
  const clock = new TestClock(T0);
  const c = container(emu, clock);
  const target = freshTarget('probe-fail');
  const openedAt = await openIt(c, clock, target);

  clock.ms = openedAt + 30_000;
  let probe = await c.breaker.admit(target);
  expect(probe.probe).toBe(true);
  clock.advance(2_000);
  const firstProbeFailedAt = clock.ms;
  await c.breaker.recordFailure(target, probe, 'timeout');
  expect(await c.breaker.admit(target)).toEqual({
    allowed: false,
    state: 'open',
    probe: false,
    retryAtMs: firstProbeFailedAt + 60_000,
  });

  clock.ms = firstProbeFailedAt + 60_000;
  probe = await c.breaker.admit(target);
  expect(probe.probe).toBe(true);
  await c.breaker.recordFailure(target, probe, 'http_5xx');
  const fresh = container(emu, clock);
  expect(await fresh.breaker.admit(target)).toMatchObject({
    allowed: false,
    state: 'open',
    retryAtMs: firstProbeFailedAt + 60_000 + 120_000,
  });
  const health = await fresh.breaker.snapshot([target]);
  expect(health[target]).toMatchObject({ state: 'open', lastErrorClass: 'http_5xx' });
});

test('a probe whose lease expires lets another probe in, and its late outcome is ignored', async () => {
  const clock = new TestClock(T0);
  const a = container(emu, clock);
  const b = container(emu, clock);
  const target = freshTarget('lease');
  const openedAt = await openIt(a, clock, target);
  clock.ms = openedAt + 30_000;

  const lost = await a.breaker.admit(target);
  expect(lost.probe).toBe(true);
  // Container a "dies" holding the lease; b keeps being refused until the lease ends.
  clock.advance(14_999);
  expect(await b.breaker.admit(target)).toMatchObject({ allowed: false, state: 'half_open' });
  clock.advance(1);
  const second = await b.breaker.admit(target);
  expect(second).toMatchObject({ allowed: true, probe: true, state: 'half_open' });

  // The first probe's success, arriving after its lease was taken over, changes nothing.
  await a.breaker.recordSuccess(target, lost);
  expect(a.logs.some((l) => l.message.includes('ignored a probe outcome'))).toBe(true);
  const c = container(emu, clock);
  expect(await c.breaker.admit(target)).toMatchObject({ allowed: false, state: 'half_open' });

  await b.breaker.recordSuccess(target, second);
  clock.advance(1_001);
  expect(await c.breaker.admit(target)).toMatchObject({ allowed: true, state: 'closed' });
});

test('the state survives a process restart', async () => {
  const clock = new TestClock(T0);
  const before = container(emu, clock);
  const target = freshTarget('restart');
  const openedAt = await openIt(before, clock, target);
  before.doc.destroy();

  const after = container(emu, clock);
  expect(await after.breaker.admit(target)).toEqual({
    allowed: false,
    state: 'open',
    probe: false,
    retryAtMs: openedAt + 30_000,
  });
});

test('snapshot reports every target, closed ones included', async () => {
  const clock = new TestClock(T0);
  const c = container(emu, clock);
  const quiet = freshTarget('quiet');
  const flaky = freshTarget('flaky');
  await fail(c.breaker, flaky, 'overloaded');
  const health = await c.breaker.snapshot([quiet, flaky]);
  expect(health[quiet]).toEqual({ state: 'closed', recentFailures: 0 });
  expect(health[flaky]).toEqual({
    state: 'closed',
    recentFailures: 1,
    lastErrorClass: 'overloaded',
    lastFailureAt: T0,
  });
});
