// One live turn per conversation as deployed: the chat bundle in AWS's runtime interface client
// behind the local function URL, where (as on Lambda) a client that hangs up is never signalled and
// each concurrent turn runs in its own execution environment. The newer turn of a conversation,
// served by another environment, stops the older one through the control table.
import { type FakeOpenAIServer, openaiReply, startOpenAIServer } from '../../fakes/openai-server';
import { voiceTurnBody } from '../../helpers/voice-turn';
import { contentOf, expectErrorEnding, parseSseStrict } from '../resilience/harness';
import { type Bundles, buildBundles, type RunningLambdaApp, startRuntimeApp } from './harness';

const CHAT_KEY = 'lambda-chat-key';
const CONVERSATIONS = 10;
const LONG_ANSWER = Array.from({ length: 200 }, (_, i) => ` word${i}`);

let bundles: Bundles;
let upstream: FakeOpenAIServer;
let run: RunningLambdaApp;

beforeAll(async () => {
  [bundles, upstream] = await Promise.all([buildBundles(['chat']), startOpenAIServer()]);
  run = await startRuntimeApp(bundles.codeRoot, {
    llmSecret: { CHAT_API_KEY: CHAT_KEY, OPENAI_API_KEY: 'sk-upstream' },
    overrides: { chat: { OPENAI_BASE_URL: `${upstream.url}/v1` } },
  });
  // Twice as many warm environments as the test needs at once, so cold starts stay out of the
  // measured second (each concurrent turn gets an environment of its own, as on Lambda).
  upstream.setDefault(openaiReply({ text: ['warm'] }, { delayMs: 300 }));
  await Promise.all(
    Array.from({ length: 2 * CONVERSATIONS }, () => post({ conversation: undefined, text: 'hi' })),
  );
}, 120_000);

afterAll(async () => {
  await run?.app.close();
  await upstream?.close();
  bundles?.remove();
});

/** A streamed ElevenLabs-shaped turn, read to its end by a client that stays connected. */
async function post(opts: { conversation: string | undefined; text: string }): Promise<string> {
  const res = await fetch(`${run.app.url}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${CHAT_KEY}`,
      ...(opts.conversation ? { 'x-conversation-id': opts.conversation } : {}),
    },
    body: JSON.stringify(voiceTurnBody(opts.text)),
  });
  expect(res.status).toBe(200);
  return res.text();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('10 conversations interrupted on Lambda: every older upstream stream stops soon after its new turn', async () => {
  upstream.requests.length = 0;
  upstream.setDefault(openaiReply({ text: LONG_ANSWER }, { delayMs: 50 }));
  const ids = Array.from({ length: CONVERSATIONS }, (_, i) => `conv_lambda_${Date.now()}_${i}`);
  // Settled from the start: a failing run must fail its assertions, not crash on a rejection.
  const first = Promise.allSettled(
    ids.map((conversation) => post({ conversation, text: 'Describe the room.' })),
  );
  await upstream.waitForRequests(CONVERSATIONS);
  await sleep(1000);
  upstream.enqueue(...ids.map(() => openaiReply({ text: ['Sure', ', stopping', '.'] })));
  const second = Promise.allSettled(
    ids.map((conversation) => post({ conversation, text: 'Stop, look at this.' })),
  );
  // The older turns run in other environments: they stop once the newer turns' claims land and
  // their next poll (250 ms) reads them; within a second on an idle machine, the bound leaves
  // room for a loaded one (the answers run 10 s).
  const started = performance.now();
  while (upstream.running() > 0 && performance.now() - started < 3000) await sleep(20);
  expect(upstream.running()).toBe(0);
  expect(upstream.requests.slice(0, CONVERSATIONS).map((r) => r.outcome)).toEqual(
    Array(CONVERSATIONS).fill('aborted'),
  );
  for (const r of await first) {
    if (r.status === 'rejected') throw r.reason;
    expect(expectErrorEnding(parseSseStrict(r.value))).toMatchObject({ code: 'turn_superseded' });
  }
  for (const r of await second) {
    if (r.status === 'rejected') throw r.reason;
    expect(contentOf(parseSseStrict(r.value))).toBe('Sure, stopping.');
  }
  const stopped = run.jsonLogs('chat').filter((l) => l.msg === 'turn' && l.error === 'turn_superseded');
  expect(stopped).toHaveLength(CONVERSATIONS);
  for (const t of stopped) {
    expect(t).toMatchObject({ level: 'info', status: 409 });
    expect((t.usage as { completion_tokens: number }).completion_tokens).toBeGreaterThan(0);
  }
});
