// The circuit breaker seen from the consumer's side, through the chat function's composition
// root: failures open it, an open breaker keeps turns away from the primary (even in a new
// process), the half-open probe is a single request, and an unreachable control table changes
// nothing a client can notice.
import { type Emulators, startEmulators } from '../../../infra/local/emulators';
import { CircuitBreaker } from '../../../shared/routing/breaker';
import { openaiError } from '../../fakes/openai-server';
import { type RunningChatServer, startChatServer } from '../../helpers/chat-server';
import { type SilentServer, startSilentServer } from '../../helpers/silent-server';
import { TestClock } from '../routing/breaker-harness';
import {
  ANTHROPIC_ANSWER,
  breakerHealth,
  chatEnv,
  createControlTable,
  documentClient,
  eventually,
  FALLBACK,
  OPENAI_ANSWER,
  openaiClient,
  PRIMARY,
  RecordingBreaker,
  type RunningService,
  type StreamedTurn,
  startChatService,
  startGatedOpenAI,
  startUpstreams,
  streamTurn,
  type Upstreams,
} from './harness';

const FALLBACK_TEXT = ANTHROPIC_ANSWER.join('');
const PRIMARY_TEXT = OPENAI_ANSWER.join('');

let emu: Emulators;
let up: Upstreams;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  emu = await startEmulators({ tables: [], buckets: [] });
});
afterAll(() => emu.close());
beforeEach(async () => {
  up = await startUpstreams();
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await up.close();
});

/** The chat function as deployed: composeChat with CONTROL_TABLE on the embedded DynamoDB. */
async function service(table: string, dynamoEndpoint = emu.dynamoEndpoint): Promise<RunningService> {
  const running = await startChatService(
    chatEnv(up, { CONTROL_TABLE: table, AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint, AWS_REGION: emu.region }),
    documentClient(emu, dynamoEndpoint),
  );
  closers.push(() => running.close());
  return running;
}

const primaryHealth = (url: string) => breakerHealth(url, 'gpt-4o', PRIMARY);

/**
 * Turns against a primary that always answers 500, until its breaker opens. Every turn is
 * still answered by the fallback; each makes two primary attempts (one retry), so the fifth
 * failure, the default threshold, comes in the third turn.
 */
async function failPrimaryUntilOpen(svc: RunningService): Promise<void> {
  up.openai.setDefault(openaiError(500, 'primary is down'));
  const client = openaiClient(svc.url);
  for (let turn = 1; turn <= 2; turn++) {
    const t = await streamTurn(client, 'gpt-4o');
    expect(t.text).toBe(FALLBACK_TEXT);
    const h = await eventually(
      () => primaryHealth(svc.url),
      (v) => v.recentFailures === turn * 2,
    );
    expect(h.state).toBe('closed');
  }
  const third = await streamTurn(client, 'gpt-4o');
  expect(third.text).toBe(FALLBACK_TEXT);
  await eventually(
    () => primaryHealth(svc.url),
    (v) => v.state === 'open',
  );
}

test('five failures open the breaker: the next turn skips the primary without calling it', async () => {
  const svc = await service(await createControlTable(emu, 'open'));
  await failPrimaryUntilOpen(svc);
  expect(up.openai.requests).toHaveLength(6);
  const opened = await primaryHealth(svc.url);
  expect(opened).toMatchObject({ state: 'open', lastErrorClass: 'http_5xx' });
  expect(opened.recentFailures).toBeGreaterThanOrEqual(5);
  expect(Date.parse(opened.openUntil!)).toBeGreaterThan(Date.now());

  up.openai.replyWith(OPENAI_ANSWER);
  up.openai.requests.length = 0;
  const turn = await streamTurn(openaiClient(svc.url), 'gpt-4o');

  expect(turn.error).toBeUndefined();
  expect(turn.text).toBe(FALLBACK_TEXT);
  expect(up.openai.requests).toHaveLength(0);
  expect(svc.turns.at(-1)?.attempts.map((a) => [a.target, a.outcome])).toEqual([
    [PRIMARY, 'skipped_open'],
    [FALLBACK, 'ok'],
  ]);
  expect((await primaryHealth(svc.url)).state).toBe('open');
});

test('the open state survives a restart: a new process on the same table skips the primary', async () => {
  const table = await createControlTable(emu, 'restart');
  const first = await service(table);
  await failPrimaryUntilOpen(first);
  await first.close();

  up.openai.replyWith(OPENAI_ANSWER);
  up.openai.requests.length = 0;
  const second = await service(table);
  expect((await primaryHealth(second.url)).state).toBe('open');
  const turn = await streamTurn(openaiClient(second.url), 'gpt-4o');

  expect(turn.error).toBeUndefined();
  expect(turn.text).toBe(FALLBACK_TEXT);
  expect(up.openai.requests).toHaveLength(0);
  expect(second.turns[0]?.attempts[0]).toMatchObject({ target: PRIMARY, outcome: 'skipped_open' });
});

describe('an unavailable control table: the breaker fails open and turns are answered quickly', () => {
  let silent: SilentServer;

  beforeAll(async () => {
    silent = await startSilentServer(); // a DynamoDB that hangs
  });
  afterAll(() => silent.close());

  test.each([
    ['unreachable (connection refused)', () => 'http://127.0.0.1:1'],
    ['hanging (never answers)', () => silent.url],
  ])('%s', async (_label, endpoint) => {
    const svc = await service('control', endpoint());
    const client = openaiClient(svc.url);
    // Default storeTimeoutMs is 300 ms: one bounded wait at most, then the table is skipped.
    const bound = 300 + 400;

    const healthy = await streamTurn(client, 'gpt-4o');
    expect(healthy.error).toBeUndefined();
    expect(healthy.text).toBe(PRIMARY_TEXT);
    expect(healthy.ms).toBeLessThan(bound);

    up.openai.enqueue(openaiError(500, 'boom'), openaiError(500, 'boom again'));
    const failedOver = await streamTurn(client, 'gpt-4o');
    expect(failedOver.error).toBeUndefined();
    expect(failedOver.text).toBe(FALLBACK_TEXT);
    expect(failedOver.ms).toBeLessThan(bound);

    const started = performance.now();
    const h = await primaryHealth(svc.url);
    expect(performance.now() - started).toBeLessThan(bound);
    expect(h.state).toBe('closed');
    // ...but /health says the state is a default, not something read from the table.
    expect(h.stateUnknown).toBe(true);
    expect(up.openai.requests).toHaveLength(3);
    expect(up.anthropic.requests).toHaveLength(1);
  });
});

describe('50 concurrent turns on a half-open breaker: exactly one probe reaches the primary', () => {
  const T0 = 1_800_000_000_000;
  const CONCURRENT = 50;

  async function halfOpenServer(
    primaryBaseUrl = `${up.openai.url}/v1`,
  ): Promise<{ server: RunningChatServer; breaker: RecordingBreaker; clock: TestClock }> {
    const clock = new TestClock(T0);
    const table = await createControlTable(emu, 'half-open');
    // Another container opens the breaker; the serving one only ever reads that from the table.
    const other = new CircuitBreaker({
      client: documentClient(emu),
      tableName: table,
      now: clock.now,
      log: () => {},
    });
    for (let i = 0; i < other.settings.failureThreshold; i++) {
      await other.recordFailure(PRIMARY, await other.admit(PRIMARY), 'http_5xx');
    }
    const breaker = new RecordingBreaker(
      new CircuitBreaker({
        client: documentClient(emu),
        tableName: table,
        now: clock.now,
        log: () => {},
      }),
    );
    // No hang in these tests: a first-byte timeout far above the 300 ms of the harness's routes,
    // so 50 turns failing over on a loaded CI machine are not cut by it (seen at load 20).
    const routes = JSON.stringify({ 'gpt-4o': { targets: [PRIMARY, FALLBACK], firstByteTimeoutMs: 10_000 } });
    const server = await startChatServer(
      chatEnv(up, { OPENAI_BASE_URL: primaryBaseUrl, MODEL_ROUTES: routes }),
      { breaker },
    );
    closers.push(() => server.close());
    expect((await primaryHealthOf(server)).state).toBe('open');
    clock.advance(breaker.inner.settings.openCooldownMs);
    expect((await primaryHealthOf(server)).state).toBe('half_open');
    return { server, breaker, clock };
  }

  const primaryHealthOf = (server: RunningChatServer) => breakerHealth(server.url, 'gpt-4o', PRIMARY);

  function race(server: RunningChatServer) {
    const client = openaiClient(server.url);
    return Promise.all(Array.from({ length: CONCURRENT }, () => streamTurn(client, 'gpt-4o')));
  }

  function expectAllAnswered(turns: StreamedTurn[]): void {
    for (const t of turns) {
      expect(t.error).toBeUndefined();
      expect(t.chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    }
  }

  test('the probe succeeds: one turn answered by the primary, the rest by the fallback; closed after', async () => {
    // The probe streams its first token, then is held until every turn has reached an upstream.
    const gated = await startGatedOpenAI(OPENAI_ANSWER);
    closers.push(() => gated.close());
    const { server, breaker } = await halfOpenServer(`${gated.url}/v1`);

    const racing = race(server);
    await eventually(
      async () => gated.requests + up.anthropic.requests.length,
      (n) => n === CONCURRENT,
    );
    expect(gated.requests).toBe(1);
    expect(up.anthropic.requests).toHaveLength(CONCURRENT - 1);
    gated.release();
    const turns = await racing;

    expectAllAnswered(turns);
    expect(turns.filter((t) => t.text === PRIMARY_TEXT)).toHaveLength(1);
    expect(turns.filter((t) => t.text === FALLBACK_TEXT)).toHaveLength(CONCURRENT - 1);
    const primaryTries = server.turns.flatMap((r) => r.attempts).filter((a) => a.target === PRIMARY);
    expect(primaryTries.filter((a) => a.outcome === 'ok')).toHaveLength(1);
    expect(primaryTries.filter((a) => a.outcome === 'skipped_open')).toHaveLength(CONCURRENT - 1);

    await breaker.settled();
    expect(breaker.successesOf(PRIMARY)).toBe(1);
    expect(await primaryHealthOf(server)).toMatchObject({ state: 'closed', recentFailures: 0 });
    const after = await streamTurn(openaiClient(server.url), 'gpt-4o');
    expect(after.text).toBe(PRIMARY_TEXT);
    expect(gated.requests).toBe(2);
  });

  // Regression: a probe that failed with a retryable error (a 500) used to be retried on the
  // same target, so a half-open primary got a second request right after re-opening.
  test('the probe fails: one request reaches the primary, every turn is answered; open again, for longer', async () => {
    const { server, breaker, clock } = await halfOpenServer();
    up.openai.setDefault(openaiError(500, 'still down'));

    const turns = await race(server);

    expectAllAnswered(turns);
    expect(up.openai.requests).toHaveLength(1);
    expect(up.anthropic.requests).toHaveLength(CONCURRENT);
    expect(turns.every((t) => t.text === FALLBACK_TEXT)).toBe(true);

    await breaker.settled();
    expect(breaker.failuresOf(PRIMARY)).toEqual(['http_5xx']);
    const h = await primaryHealthOf(server);
    expect(h.state).toBe('open');
    // The cooldown doubled: the breaker stays open for twice as long as the first time.
    expect(Date.parse(h.openUntil!)).toBe(clock.ms + 2 * breaker.inner.settings.openCooldownMs);
    const after = await streamTurn(openaiClient(server.url), 'gpt-4o');
    expect(after.text).toBe(FALLBACK_TEXT);
    expect(up.openai.requests).toHaveLength(1);
  });
});
