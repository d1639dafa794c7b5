// What a user may spend on images (per session, per hour, dollars per day, the session budget),
// charged when a generation is queued and failing closed; and prompt moderation through the
// official SDK against a fake moderation upstream. Nothing is generated past any of them.
import { backgroundSettled } from '../../../shared/background';
import { SessionBudget } from '../../../shared/limits/budget';
import { startModerationServer } from '../../fakes/moderation-server';
import type { ScriptedServer } from '../../fakes/scripted-server';
import { CONTROL_TABLE, startTestStorage, type TestStorage } from '../sessions/harness';
import { genHarness, rejection } from './harness';

let storage: TestStorage;
let moderation: ScriptedServer;
beforeAll(async () => {
  storage = await startTestStorage();
  moderation = await startModerationServer(['bloody']);
});
afterAll(async () => {
  await moderation.close();
  await storage.close();
});

let n = 0;
const requester = () => `ip:10.1.0.${++n}`;

function asker(h: ReturnType<typeof genHarness>, who: string) {
  return async (prompt = 'a cat', quality: 'medium' | 'high' = 'medium') =>
    h.service.ask({
      session: await h.newSession(),
      prompt,
      options: { quality, aspect: 'square' },
      origin: 'voice',
      requester: who,
    });
}

test('per user per hour: the count past the limit is 429 image_rate_limited with retry-after', async () => {
  const h = genHarness(storage, { config: { perUserPerHour: 2 } });
  const ask = asker(h, requester());
  await ask();
  await ask();
  const err = await rejection(ask());
  expect([err.status, err.code]).toEqual([429, 'image_rate_limited']);
  expect(err.retryAfterSeconds).toBeGreaterThan(0);
  await backgroundSettled();
  expect(h.generator.calls).toHaveLength(2);
});

test('per user per day: dollars past the cap are 429 image_daily_budget_exceeded; awaiting ones are not charged', async () => {
  const h = genHarness(storage, { config: { maxUsdPerUserPerDay: 0.2, autoApproveUsd: 0.01 } });
  const who = requester();
  const ask = asker(h, who);
  const first = await ask('a', 'high'); // $0.167, awaiting: nothing charged yet
  const second = await ask('b', 'high');
  await h.service.confirm(first.sessionId, first.generationId);
  const err = await rejection(h.service.confirm(second.sessionId, second.generationId));
  expect([err.status, err.code]).toEqual([429, 'image_daily_budget_exceeded']);
  // Refused before the conditional write: it still waits, and can be confirmed another day.
  expect((await h.service.get(second.sessionId, second.generationId)).status).toBe('awaiting_confirmation');
  await backgroundSettled();
  expect(h.generator.calls).toHaveLength(1);
});

test('per session: generations past the cap are 429 session_generation_limit', async () => {
  const h = genHarness(storage, { config: { perSession: 1 } });
  const session = await h.newSession();
  const ask = () =>
    h.service.ask({
      session,
      prompt: 'a dog',
      options: { quality: 'medium', aspect: 'square' },
      origin: 'browser',
      requester: requester(),
    });
  await ask();
  const err = await rejection(ask());
  expect([err.status, err.code]).toEqual([429, 'session_generation_limit']);
  await backgroundSettled();
});

test('a session whose budget is spent gets 429 session_budget_exceeded before anything is estimated', async () => {
  const h = genHarness(storage, { sessionBudget: { maxCostUsd: 0.01 } });
  const session = await h.newSession();
  const budget = new SessionBudget({
    client: storage.clients.dynamo,
    tableName: CONTROL_TABLE,
    log: () => {},
  });
  await budget.addUsage(session.sessionId, { tokensIn: 0, tokensOut: 0, costUsd: 0.02 });
  const err = await rejection(
    h.service.ask({
      session,
      prompt: 'a dog',
      options: { quality: 'medium', aspect: 'square' },
      origin: 'voice',
      requester: requester(),
    }),
  );
  expect([err.status, err.code]).toEqual([429, 'session_budget_exceeded']);
});

test('the counters fail closed: with the control table unreachable, nothing is queued', async () => {
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { DynamoDBDocumentClient } = await import('@aws-sdk/lib-dynamodb');
  const { RateLimiter } = await import('../../../shared/limits/rate-limiter');
  const { createGenerationCharger } = await import('../../../shared/imagegen/limits');
  const dead = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: 'http://127.0.0.1:1',
      region: storage.emu.region,
      credentials: storage.emu.credentials,
      maxAttempts: 1,
    }),
  );
  const charge = createGenerationCharger(
    new RateLimiter({ client: dead, tableName: CONTROL_TABLE, log: () => {}, whenUnavailable: 'deny' }),
    { perUserPerHour: 10, maxUsdPerUserPerDay: 1 },
  );
  const err = await rejection(charge('ip:1.2.3.4', 0.01));
  expect([err.status, err.code]).toEqual([429, 'image_rate_limited']);
  dead.destroy();
});

test('moderation: a flagged prompt is refused (400 prompt_refused) and nothing is stored; the prompt is not logged', async () => {
  const h = genHarness(storage, {
    config: { moderation: 'openai', openai: { apiKey: 'sk-test', baseURL: `${moderation.url}/v1` } },
  });
  const ask = asker(h, requester());
  const err = await rejection(ask('a bloody battlefield'));
  expect([err.status, err.code]).toEqual([400, 'prompt_refused']);
  expect(err.message).toContain('violence');
  const seen = moderation.requests.at(-1)!;
  expect(seen.headers.authorization).toBe('Bearer sk-test');
  expect(seen.body).toMatchObject({ model: 'omni-moderation-latest', input: 'a bloody battlefield' });
  expect((await ask('a calm lake')).status).toBe('queued');
  await backgroundSettled();
  expect(JSON.stringify(h.lines)).not.toMatch(/battlefield|calm lake/);
});

test('moderation unreachable: 503 moderation_unavailable, nothing generated', async () => {
  const h = genHarness(storage, {
    config: { moderation: 'openai', openai: { apiKey: 'sk-test', baseURL: 'http://127.0.0.1:1/v1' } },
  });
  const err = await rejection(asker(h, requester())('a calm lake'));
  expect([err.status, err.code]).toEqual([503, 'moderation_unavailable']);
  expect(h.generator.calls).toHaveLength(0);
});

test('at LOG_LEVEL=debug the prompt is logged (and only then)', async () => {
  const h = genHarness(storage, { config: { logPrompts: true }, logLevel: 'debug' });
  await asker(h, requester())('a lighthouse at dawn');
  await backgroundSettled();
  expect(JSON.stringify(h.lines)).toContain('a lighthouse at dawn');
});
