// What the breaker costs a turn: a closed target with a fresh cache needs no DynamoDB call,
// and however many turns arrive together, one read per target per cache period.
import { type Emulators, startEmulators } from '../../../infra/local/emulators';
import { CONTROL_TABLE, container, freshTarget, TestClock } from './breaker-harness';

const T0 = 1_750_000_000_000;

let emu: Emulators;
beforeAll(async () => {
  emu = await startEmulators({ tables: [CONTROL_TABLE], buckets: [] });
});
afterAll(() => emu.close());

test('100 sequential admits of a closed target within cacheTtl cost one read and no writes', async () => {
  const clock = new TestClock(T0);
  const c = container(emu, clock);
  const target = freshTarget('hot-sequential');
  for (let i = 0; i < 100; i++) {
    const admission = await c.breaker.admit(target);
    expect(admission).toMatchObject({ allowed: true, state: 'closed', probe: false });
    await c.breaker.recordSuccess(target, admission);
    clock.advance(9); // 100 turns spread over 900 ms, all inside the 1 s cache
  }
  expect(c.sends.reads).toBe(1);
  expect(c.sends.writes).toBe(0);
});

test('100 concurrent admits of a closed target share one read', async () => {
  const clock = new TestClock(T0);
  const c = container(emu, clock);
  const target = freshTarget('hot-concurrent');
  const admissions = await Promise.all(Array.from({ length: 100 }, () => c.breaker.admit(target)));
  expect(admissions.every((a) => a.allowed && a.state === 'closed')).toBe(true);
  expect(c.sends.total).toBe(1);
});

test('after the cache period a turn costs at most one read', async () => {
  const clock = new TestClock(T0);
  const c = container(emu, clock);
  const target = freshTarget('hot-expiry');
  await c.breaker.admit(target);
  for (let turn = 0; turn < 5; turn++) {
    clock.advance(1_000);
    c.sends.reset();
    await Promise.all(Array.from({ length: 10 }, () => c.breaker.admit(target)));
    expect(c.sends.reads).toBe(1);
    expect(c.sends.writes).toBe(0);
  }
});

test('an open target with a fresh cache is refused with no DynamoDB call', async () => {
  const clock = new TestClock(T0);
  const c = container(emu, clock);
  const target = freshTarget('hot-open');
  for (let i = 0; i < 5; i++)
    await c.breaker.recordFailure(target, await c.breaker.admit(target), 'http_5xx');
  c.sends.reset();
  for (let i = 0; i < 50; i++)
    expect(await c.breaker.admit(target)).toMatchObject({ allowed: false, state: 'open' });
  expect(c.sends.total).toBe(0);
});

test('a failure below the threshold costs one atomic write and one window query', async () => {
  const clock = new TestClock(T0);
  const c = container(emu, clock);
  const target = freshTarget('hot-failure');
  const admission = await c.breaker.admit(target);
  c.sends.reset();
  await c.breaker.recordFailure(target, admission, 'timeout');
  expect(c.sends.writes).toBe(1);
  expect(c.sends.reads).toBe(1);
});
