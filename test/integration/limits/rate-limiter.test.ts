import { type Emulators, startEmulators } from '../../../infra/local/emulators';
import { RateLimiter } from '../../../shared/limits/rate-limiter';
import { CONTROL_TABLE, documentClient, freshKey, logSink } from './harness';

// 20 s into a 60 s window.
const T0 = 1_750_000_040_000;

let emu: Emulators;
beforeAll(async () => {
  emu = await startEmulators({ tables: [CONTROL_TABLE], buckets: [] });
});
afterAll(() => emu.close());

// The deadline is generous: these tests are about counting, and a loaded CI machine must not turn
// a slow emulator reply into the fail-open path (which has its own tests below).
function limiter(now: () => number = () => T0, endpoint?: string, timeoutMs = 5000) {
  const sink = logSink();
  const rl = new RateLimiter({
    client: documentClient(emu, endpoint),
    tableName: CONTROL_TABLE,
    now,
    log: sink.log,
    timeoutMs,
  });
  return { rl, sink };
}

test('limit 3 per window: the fourth call is refused until the window rolls over', async () => {
  let now = T0;
  const { rl } = limiter(() => now);
  const key = freshKey('caller');
  const results = [];
  for (let i = 0; i < 4; i++) results.push(await rl.consume('chat', key, 3, 60));
  expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
  expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0]);
  expect(results[3]?.retryAfterSeconds).toBe(40);
  expect(results[0]?.retryAfterSeconds).toBe(0);

  now = T0 + 40_000; // the next window
  expect(await rl.consume('chat', key, 3, 60)).toEqual({ allowed: true, remaining: 2, retryAfterSeconds: 0 });
});

test('each key (and each scope) has its own counter', async () => {
  const { rl } = limiter();
  const a = freshKey('a');
  const b = freshKey('b');
  for (let i = 0; i < 3; i++) await rl.consume('chat', a, 3, 60);
  expect((await rl.consume('chat', a, 3, 60)).allowed).toBe(false);
  expect(await rl.consume('chat', b, 3, 60)).toMatchObject({ allowed: true, remaining: 2 });
  expect(await rl.consume('upload', a, 3, 60)).toMatchObject({ allowed: true, remaining: 2 });
});

test('20 concurrent calls with limit 10 from several containers: exactly 10 allowed', async () => {
  const containers = Array.from({ length: 4 }, () => limiter().rl);
  const key = freshKey('burst');
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) => containers[i % containers.length]!.consume('chat', key, 10, 60)),
  );
  expect(results.filter((r) => r.allowed)).toHaveLength(10);
  expect(results.filter((r) => !r.allowed).every((r) => r.retryAfterSeconds > 0)).toBe(true);
});

test('a cost larger than one spends several units', async () => {
  const { rl } = limiter();
  const key = freshKey('cost');
  expect(await rl.consume('tokens', key, 1000, 60, 600)).toMatchObject({ allowed: true, remaining: 400 });
  expect(await rl.consume('tokens', key, 1000, 60, 600)).toMatchObject({ allowed: false, remaining: 0 });
});

test('an unreachable table lets calls through and logs once', async () => {
  const { rl, sink } = limiter(() => T0, 'http://127.0.0.1:1', 300);
  const started = performance.now();
  const results = [await rl.consume('chat', 'k', 1, 60), await rl.consume('chat', 'k', 1, 60)];
  expect(performance.now() - started).toBeLessThan(1_000);
  expect(results).toEqual([
    { allowed: true, remaining: 1, retryAfterSeconds: 0 },
    { allowed: true, remaining: 1, retryAfterSeconds: 0 },
  ]);
  expect(sink.lines).toHaveLength(1);
  expect(sink.lines[0]?.message).toBe('rate limiter: control table unavailable, failing open');
});
