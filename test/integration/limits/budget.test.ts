import { type Emulators, startEmulators } from '../../../infra/local/emulators';
import { type ApiError, RateLimitError } from '../../../shared/errors';
import { SessionBudget } from '../../../shared/limits/budget';
import { CONTROL_TABLE, documentClient, freshKey, logSink } from './harness';

const T0 = 1_750_000_000_000;

let emu: Emulators;
beforeAll(async () => {
  emu = await startEmulators({ tables: [CONTROL_TABLE], buckets: [] });
});
afterAll(() => emu.close());

function budget(endpoint?: string) {
  const sink = logSink();
  const b = new SessionBudget({
    client: documentClient(emu, endpoint),
    tableName: CONTROL_TABLE,
    now: () => T0,
    log: sink.log,
    ttlSeconds: 3600,
  });
  return { b, sink };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

test('usage adds up atomically across concurrent turns', async () => {
  const { b } = budget();
  const session = freshKey('s');
  await Promise.all(
    Array.from({ length: 10 }, () =>
      b.addUsage(session, { tokensIn: 100, tokensOut: 20, costUsd: 0.000375 }),
    ),
  );
  const used = await b.usage(session);
  expect(used).toMatchObject({ tokensIn: 1000, tokensOut: 200 });
  expect(used?.costUsd).toBeCloseTo(0.00375, 12);
});

test('under budget: checkBudget passes; no limits: no read at all', async () => {
  const { b } = budget();
  const session = freshKey('s');
  await b.addUsage(session, { tokensIn: 100, tokensOut: 50, costUsd: 0.01 });
  await expect(b.checkBudget(session, { maxTokens: 1000, maxCostUsd: 1 })).resolves.toBeUndefined();
  await expect(b.checkBudget(session, {})).resolves.toBeUndefined();
});

test('a session over its token budget gets a 429 session_budget_exceeded with retry-after', async () => {
  const { b } = budget();
  const session = freshKey('s');
  await b.addUsage(session, { tokensIn: 900, tokensOut: 100, costUsd: 0.01 });
  const err = await rejection(b.checkBudget(session, { maxTokens: 1000 }));
  expect(err).toBeInstanceOf(RateLimitError);
  const apiErr = err as ApiError;
  expect(apiErr.status).toBe(429);
  expect(apiErr.code).toBe('session_budget_exceeded');
  expect(apiErr.retryAfterSeconds).toBe(3600);
  expect(apiErr.toBody()).toEqual({
    error: {
      message: 'This session has used its budget (1000 of 1000 tokens).',
      type: 'rate_limit_error',
      param: null,
      code: 'session_budget_exceeded',
    },
  });
});

test('a session over its cost budget is refused too', async () => {
  const { b } = budget();
  const session = freshKey('s');
  await b.addUsage(session, { tokensIn: 10, tokensOut: 10, costUsd: 0.3 });
  await b.addUsage(session, { tokensIn: 10, tokensOut: 10, costUsd: 0.25 });
  const err = await rejection(b.checkBudget(session, { maxTokens: 1_000_000, maxCostUsd: 0.5 }));
  expect(err).toBeInstanceOf(RateLimitError);
  expect((err as RateLimitError).code).toBe('session_budget_exceeded');
});

test('sessions are counted apart', async () => {
  const { b } = budget();
  const spender = freshKey('s');
  const other = freshKey('s');
  await b.addUsage(spender, { tokensIn: 5000, tokensOut: 0, costUsd: 0 });
  await expect(b.checkBudget(other, { maxTokens: 1000 })).resolves.toBeUndefined();
});

test('an unreachable table: usage is dropped and the budget check passes, logged once', async () => {
  const { b, sink } = budget('http://127.0.0.1:1');
  await expect(b.addUsage('s', { tokensIn: 1, tokensOut: 1, costUsd: 0 })).resolves.toBeUndefined();
  await expect(b.checkBudget('s', { maxTokens: 0 })).resolves.toBeUndefined();
  expect(sink.lines).toHaveLength(1);
});
