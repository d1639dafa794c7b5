// Barge-in and superseding through the Responses door: the same turn core as chat completions,
// so a caller hanging up stops the upstream and is recorded as a client abort, and a newer turn
// of the conversation (through either door) stops the older one, which ends in response.failed.
import { type FakeOpenAIServer, openaiReply, startOpenAIServer } from '../../fakes/openai-server';
import { type RunningChatServer, startChatServer } from '../../helpers/chat-server';
import { hangUpAfter } from '../../helpers/hang-up';
import { voiceTurnBody } from '../../helpers/voice-turn';

/** 200 tokens 50 ms apart: a 10 s answer, far longer than the test waits. */
const LONG_ANSWER = Array.from({ length: 200 }, (_, i) => ` word${i}`);
let upstream: FakeOpenAIServer;
let server: RunningChatServer;

beforeEach(async () => {
  upstream = await startOpenAIServer();
  upstream.setDefault(openaiReply({ text: LONG_ANSWER }, { delayMs: 50 }));
  server = await startChatServer({ OPENAI_API_KEY: 'sk', OPENAI_BASE_URL: `${upstream.url}/v1` });
});
afterEach(async () => {
  await server.close();
  await upstream.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An ElevenLabs Responses turn (api_type "responses") of one conversation. */
const responsesTurn = (text: string) => ({
  model: 'gpt-4o',
  stream: true,
  max_output_tokens: -1,
  user_id: 'caller',
  instructions: 'You can see.',
  input: [{ role: 'user', content: text }],
});

async function until(check: () => boolean, capMs = 3000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > capMs) throw new Error('timed out waiting');
    await sleep(20);
  }
}

test('a caller hanging up mid-answer stops the upstream; the turn is a 499 with partial usage', async () => {
  await hangUpAfter(server.url, responsesTurn('Describe the room.'), 600, {}, '/v1/responses');
  await until(() => upstream.running() === 0 && server.turns.length === 1);
  expect(upstream.requests.map((r) => r.outcome)).toEqual(['aborted']);
  expect(server.turns[0]).toMatchObject({ status: 499, error: 'client_disconnected', stream: true });
  expect(server.turns[0]!.usage?.completion_tokens).toBeGreaterThan(0);
  expect(server.turns[0]!.usage!.completion_tokens).toBeLessThan(LONG_ANSWER.length);
});

test.each([
  ['a Responses turn', '/v1/responses', responsesTurn('Stop, look at this.')],
  ['a chat turn', '/v1/chat/completions', voiceTurnBody('Stop, look at this.')],
])(
  'a newer turn of the conversation (%s) stops the older Responses turn, which ends in response.failed',
  async (_l, path, newer) => {
    const conversation = { 'content-type': 'application/json', 'x-conversation-id': `conv_${Date.now()}` };
    const older = fetch(`${server.url}/v1/responses`, {
      method: 'POST',
      headers: conversation,
      body: JSON.stringify(responsesTurn('Describe the room.')),
    }).then((r) => r.text());
    await upstream.waitForRequests(1);
    await sleep(300);
    upstream.enqueue(openaiReply({ text: ['Sure', '.'] }));
    const second = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: conversation,
      body: JSON.stringify(newer),
    });
    expect(second.status).toBe(200);
    await second.text();

    const text = await older;
    const names = [...text.matchAll(/^event: (.+)$/gm)].map((m) => m[1]);
    expect(names.at(-1)).toBe('response.failed');
    const failed = JSON.parse(text.trim().split('\n').at(-1)!.slice('data: '.length));
    expect(failed.response.error.type).toBe('turn_superseded');
    expect(upstream.requests[0]!.outcome).toBe('aborted');
    expect(server.turns.find((t) => t.error === 'turn_superseded')).toMatchObject({ status: 409 });
  },
);
