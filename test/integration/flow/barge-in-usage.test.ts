// An interrupted turn is paid for: the whole local product (sessions on the DynamoDB emulator,
// budgets on the control table), a voice turn on a session that the caller hangs up 1 s into a
// long answer; what it used so far lands in the session's totals like any turn's.
import { LOCAL_NAMES } from '../../../infra/local/dev-app';
import { SessionBudget } from '../../../shared/limits/budget';
import { type FakeOpenAIServer, openaiReply, startOpenAIServer } from '../../fakes/openai-server';
import { createBrowserSession, type RunningDevServer, startDevServer } from '../../helpers/dev-server';
import { documentClient } from '../../helpers/dynamo';
import { hangUpAfter } from '../../helpers/hang-up';

const ORIGIN = 'https://app.example.com';
let upstream: FakeOpenAIServer;
let dev: RunningDevServer;

beforeAll(async () => {
  upstream = await startOpenAIServer();
  upstream.setDefault(
    openaiReply({ text: Array.from({ length: 200 }, (_, i) => ` word${i}`) }, { delayMs: 50 }),
  );
  dev = await startDevServer({
    env: { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: `${upstream.url}/v1`, ALLOWED_ORIGINS: ORIGIN },
  });
});
afterAll(async () => {
  await dev?.close();
  await upstream?.close();
});

test("a turn interrupted mid-answer adds its partial usage to the session's totals", async () => {
  const session = await createBrowserSession(dev.url, ORIGIN);
  await hangUpAfter(
    dev.url,
    {
      model: 'gpt-4o',
      stream: true,
      user_id: 'caller-1',
      elevenlabs_extra_body: { session_id: session.sessionId },
      messages: [{ role: 'user', content: 'Describe the room around me in detail.' }],
    },
    1000,
  );

  const budget = new SessionBudget({
    client: documentClient(dev.dev.emulators),
    tableName: LOCAL_NAMES.controlTable,
    log: () => {},
  });
  // The turn's usage is written without being awaited: poll until it lands.
  const deadline = performance.now() + 3000;
  let used = await budget.usage(session.sessionId);
  while ((used?.tokensOut ?? 0) === 0 && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    used = await budget.usage(session.sessionId);
  }
  expect(upstream.requests[0]?.outcome).toBe('aborted');
  // About 20 of the 200 tokens had streamed; the prompt was read in full.
  expect(used?.tokensOut).toBeGreaterThan(0);
  expect(used?.tokensOut).toBeLessThan(100);
  expect(used?.tokensIn).toBeGreaterThan(0);
});
