// Barge-in on the node host: a voice client that hangs up mid-answer (ElevenLabs drops the
// request when the user interrupts) stops the upstream at once, wherever the turn is: waiting
// for the first token, streaming, sleeping in a retry's backoff, or racing a hedge. The turn is
// recorded as a client abort (499, info) with what it used, and no breaker counts it.
import { type Emulators, startEmulators } from '../../../infra/local/emulators';
import { anthropicReply } from '../../fakes/anthropic-server';
import { openaiError, openaiReply } from '../../fakes/openai-server';
import type { ScriptedServer } from '../../fakes/scripted-server';
import { hangUpAfter } from '../../helpers/hang-up';
import {
  breakerHealth,
  CHAT_KEY,
  chatEnv,
  createControlTable,
  documentClient,
  FALLBACK,
  openaiClient,
  PRIMARY,
  type RunningService,
  startChatService,
  startUpstreams,
  type Upstreams,
} from './harness';

const CLIENTS = 10;
const DROP_AFTER_MS = 1000;
/** 200 tokens, 50 ms apart: a 10 s answer, far longer than any client here listens. */
const LONG_ANSWER = Array.from({ length: 200 }, (_, i) => ` word${i}`);
const TOKEN_DELAY_MS = 50;

const ROUTES = JSON.stringify({
  solo: { targets: [PRIMARY], firstByteTimeoutMs: 8000 },
  hedged: { targets: [PRIMARY, FALLBACK], firstByteTimeoutMs: 8000, hedgeAfterMs: 100 },
});

let emu: Emulators;
let up: Upstreams;
let svc: RunningService;

beforeAll(async () => {
  emu = await startEmulators({ tables: [], buckets: [] });
});
afterAll(() => emu.close());
beforeEach(async () => {
  up = await startUpstreams();
  const table = await createControlTable(emu, 'barge-in');
  svc = await startChatService(
    chatEnv(up, {
      MODEL_ROUTES: ROUTES,
      CONTROL_TABLE: table,
      AWS_ENDPOINT_URL_DYNAMODB: emu.dynamoEndpoint,
      AWS_REGION: emu.region,
    }),
    documentClient(emu),
  );
});
afterEach(async () => {
  await svc.close();
  await up.close();
});

const AUTH = { authorization: `Bearer ${CHAT_KEY}` };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const turn = (model: string, stream: boolean) => ({
  model,
  stream,
  user_id: 'caller-1',
  messages: [
    { role: 'system', content: 'You are a voice agent that can see.' },
    { role: 'user', content: 'What is on the table in front of me?' },
  ],
});

/** Everything the service logged at warn or error: a barge-in must leave nothing there. */
const complaints = () => svc.lines.filter((l) => l.level === 'warn' || l.level === 'error');

function expectAllAborted(server: ScriptedServer, n: number): void {
  expect(server.requests).toHaveLength(n);
  expect(server.running()).toBe(0);
  expect(server.requests.map((r) => r.outcome)).toEqual(Array(n).fill('aborted'));
}

async function expectBreakerUntouched(route: string, target: string): Promise<void> {
  const h = await breakerHealth(svc.url, route, target);
  expect(h).toMatchObject({ state: 'closed', recentFailures: 0 });
}

describe.each([
  ['streamed', true],
  ['not streamed', false],
])('%s: 10 clients hanging up at 1 s', (_label, stream) => {
  test('mid-answer: 0 upstream streams left 1 s later; 499 at info with partial usage', async () => {
    up.openai.setDefault(openaiReply({ text: LONG_ANSWER }, { delayMs: TOKEN_DELAY_MS }));
    await Promise.all(
      Array.from({ length: CLIENTS }, () => hangUpAfter(svc.url, turn('solo', stream), DROP_AFTER_MS, AUTH)),
    );
    await sleep(1000);

    expectAllAborted(up.openai, CLIENTS);
    expect(svc.turns).toHaveLength(CLIENTS);
    for (const t of svc.turns) {
      expect(t).toMatchObject({ status: 499, error: 'client_disconnected', stream, usageEstimated: true });
      // About 20 of the 200 tokens were produced before the hang-up; the prompt was read in full.
      expect(t.usage!.completion_tokens).toBeGreaterThan(0);
      expect(t.usage!.completion_tokens).toBeLessThan(LONG_ANSWER.length);
      expect(t.usage!.prompt_tokens).toBeGreaterThan(0);
    }
    const turnLines = svc.lines.filter((l) => l.msg === 'turn');
    expect(turnLines.map((l) => l.level)).toEqual(Array(CLIENTS).fill('info'));
    expect(complaints()).toEqual([]);
    await expectBreakerUntouched('solo', PRIMARY);
  });

  test('waiting for the first token: the upstream request is aborted, no usage is made up', async () => {
    up.openai.setDefault({ kind: 'hang' });
    await Promise.all(
      Array.from({ length: CLIENTS }, () => hangUpAfter(svc.url, turn('solo', stream), DROP_AFTER_MS, AUTH)),
    );
    await sleep(1000);

    expectAllAborted(up.openai, CLIENTS);
    expect(svc.turns.map((t) => [t.status, t.error, t.usage])).toEqual(
      Array(CLIENTS).fill([499, 'client_disconnected', undefined]),
    );
    expect(complaints()).toEqual([]);
    await expectBreakerUntouched('solo', PRIMARY);
  });
});

test('a hang-up while a hedge races the primary aborts both attempts', async () => {
  up.openai.setDefault({ kind: 'hang' });
  up.anthropic.setDefault({ kind: 'hang' });
  await hangUpAfter(svc.url, turn('hedged', true), DROP_AFTER_MS, AUTH);
  await sleep(1000);

  expectAllAborted(up.openai, 1);
  expectAllAborted(up.anthropic, 1);
  expect(svc.turns).toHaveLength(1);
  expect(svc.turns[0]).toMatchObject({ status: 499, error: 'client_disconnected' });
  expect(svc.turns[0]!.attempts.map((a) => [a.target, a.hedge])).toEqual(
    expect.arrayContaining([
      [PRIMARY, false],
      [FALLBACK, true],
    ]),
  );
  expect(complaints()).toEqual([]);
  await expectBreakerUntouched('hedged', PRIMARY);
  await expectBreakerUntouched('hedged', FALLBACK);
});

test('a hang-up during a retry backoff ends the turn at once; the retry never starts', async () => {
  // A retryable 503 that asks for 5 s: the retry would start long after the hang-up.
  up.openai.setDefault(openaiError(503, 'busy', { headers: { 'retry-after': '5' } }));
  const started = performance.now();
  await hangUpAfter(svc.url, turn('solo', true), DROP_AFTER_MS, AUTH);
  while (svc.turns.length === 0 && performance.now() - started < 4000) await sleep(20);
  const endedAfterMs = performance.now() - started;
  await sleep(1000);

  expect(svc.turns).toHaveLength(1);
  expect(svc.turns[0]).toMatchObject({ status: 499, error: 'client_disconnected' });
  expect(endedAfterMs).toBeLessThan(DROP_AFTER_MS + 500);
  // Only the first try reached the upstream; the retry that was sleeping was dropped.
  expect(up.openai.requests).toHaveLength(1);
  // The 503 itself is a failure of the upstream's and counts once; the hang-up adds nothing.
  const h = await breakerHealth(svc.url, 'solo', PRIMARY);
  expect(h.recentFailures).toBe(1);
  expect(complaints().map((l) => l.msg)).toEqual(['upstream attempt failed']);
});

test('the official openai client aborting its stream stops the upstream the same way', async () => {
  up.anthropic.setDefault(anthropicReply({ blocks: [{ type: 'text', text: LONG_ANSWER }] }, { delayMs: 50 }));
  up.openai.setDefault({ kind: 'hang' });
  const client = openaiClient(svc.url);
  const ctrl = new AbortController();
  // The hedge (Anthropic) wins after 100 ms and streams; the client stops reading after 1 s.
  const stream = await client.chat.completions.create(
    { ...turn('hedged', true), stream: true } as Parameters<typeof client.chat.completions.create>[0] & {
      stream: true;
    },
    { signal: ctrl.signal },
  );
  setTimeout(() => ctrl.abort(), DROP_AFTER_MS);
  let text = '';
  try {
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  } catch {
    // Depending on the SDK version an aborted stream throws or just ends; either is a hang-up.
  }
  await sleep(1000);

  expect(text.length).toBeGreaterThan(0);
  expectAllAborted(up.openai, 1);
  expectAllAborted(up.anthropic, 1);
  expect(svc.turns[0]).toMatchObject({ status: 499, error: 'client_disconnected', provider: 'anthropic' });
  expect(svc.turns[0]!.usage!.completion_tokens).toBeGreaterThan(0);
  expect(complaints()).toEqual([]);
  await expectBreakerUntouched('hedged', FALLBACK);
});
