// The breaker is advisory: when the control table is down or hangs, calls go through quickly,
// nothing throws, and the outage is logged once per interval rather than once per turn.

import { type Emulators, startEmulators } from '../../../infra/local/emulators';
import { type SilentServer, startSilentServer } from '../../helpers/silent-server';
import { CONTROL_TABLE, container, freshTarget, TestClock } from './breaker-harness';

const T0 = 1_750_000_000_000;

let emu: Emulators;
let silent: SilentServer;

beforeAll(async () => {
  emu = await startEmulators({ tables: [CONTROL_TABLE], buckets: [] });
  silent = await startSilentServer(); // a DynamoDB that hangs
});

afterAll(async () => {
  await silent.close();
  await emu.close();
});

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - started };
}

test('an unreachable table: admit is allowed at once and record calls do not throw', async () => {
  const clock = new TestClock(T0);
  const c = container(emu, clock, {}, 'http://127.0.0.1:1');
  const target = freshTarget('unreachable');

  const { value: admission, ms } = await timed(() => c.breaker.admit(target));
  expect(admission).toEqual({ allowed: true, state: 'closed', probe: false });
  expect(ms).toBeLessThan(500);

  await expect(c.breaker.recordFailure(target, admission, 'http_5xx')).resolves.toBeUndefined();
  await expect(c.breaker.recordSuccess(target, admission)).resolves.toBeUndefined();
  const health = await c.breaker.snapshot([target]);
  expect(health[target]).toEqual({ state: 'closed', recentFailures: 0, storeUnavailable: true });

  const warnings = c.logs.filter((l) => l.level === 'warn');
  expect(warnings).toHaveLength(1);
  expect(warnings[0]?.message).toBe('circuit breaker: control table unavailable, failing open');
});

test('a hanging table: admit gives up at the per-call deadline and fails open', async () => {
  const clock = new TestClock(T0);
  const c = container(emu, clock, {}, silent.url);
  const target = freshTarget('hanging');
  const { value, ms } = await timed(() => c.breaker.admit(target));
  expect(value).toEqual({ allowed: true, state: 'closed', probe: false });
  expect(ms).toBeGreaterThanOrEqual(250);
  expect(ms).toBeLessThan(700);
});

test('after an error the table is skipped for a while, so an outage costs one slow call, not one per turn', async () => {
  const clock = new TestClock(T0);
  const c = container(emu, clock, { storeBackoffMs: 5_000, errorLogIntervalMs: 60_000 }, silent.url);
  const target = freshTarget('backoff');
  await c.breaker.admit(target);
  c.sends.reset();
  const { ms } = await timed(async () => {
    for (let i = 0; i < 20; i++) await c.breaker.admit(target);
  });
  expect(c.sends.total).toBe(0);
  expect(ms).toBeLessThan(50);

  // Past the back-off it tries again (and, still failing, stays quiet in the log).
  clock.advance(5_000);
  await c.breaker.admit(target);
  expect(c.sends.total).toBe(1);
  expect(c.logs.filter((l) => l.level === 'warn')).toHaveLength(1);
  // A minute later the next failure is logged again, with the count of those swallowed.
  clock.advance(60_000);
  await c.breaker.admit(target);
  const warnings = c.logs.filter((l) => l.level === 'warn');
  expect(warnings).toHaveLength(2);
  expect(warnings[1]?.fields?.suppressedSinceLastLog).toBe(1);
});

test('once the table answers again after the back-off, the shared state applies again', async () => {
  const clock = new TestClock(T0);
  const other = container(emu, clock);
  const target = freshTarget('recovers');
  for (let i = 0; i < 5; i++) {
    await other.breaker.recordFailure(target, await other.breaker.admit(target), 'http_5xx');
  }
  const c = container(emu, clock, { storeBackoffMs: 2_000 });
  const send = c.doc.send.bind(c.doc) as (...args: unknown[]) => Promise<unknown>;
  let outage = true;
  Object.assign(c.doc, {
    send: (...args: unknown[]) => (outage ? Promise.reject(new Error('ECONNRESET')) : send(...args)),
  });
  expect(await c.breaker.admit(target)).toMatchObject({ allowed: true, state: 'closed' });
  outage = false;
  expect(await c.breaker.admit(target)).toMatchObject({ allowed: true, state: 'closed' });
  clock.advance(2_000);
  expect(await c.breaker.admit(target)).toMatchObject({ allowed: false, state: 'open' });
});
