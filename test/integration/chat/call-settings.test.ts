// Call settings across a failover inside one route (issue 10, part 4): the official `openai` client
// asks with its own max_tokens and temperature, the OpenAI target fails, the Anthropic target
// answers, and both upstreams receive the same token limit by the one rule (the route's maxTokens
// is a ceiling over the client's). What Anthropic cannot take (sampling settings, refused by its
// API version) is left out and said once, at debug level.
import OpenAI from 'openai';
import { createChatApp, warmRouteProviders } from '../../../shared/chat/app';
import { loadConfig } from '../../../shared/config';
import { createLogger } from '../../../shared/observability/log';
import { type FakeAnthropicServer, startAnthropicServer } from '../../fakes/anthropic-server';
import { type FakeOpenAIServer, openaiError, startOpenAIServer } from '../../fakes/openai-server';
import { serveOnLoopback } from '../../helpers/serve';

let openai: FakeOpenAIServer;
let anthropic: FakeAnthropicServer;
let served: { url: string; close(): Promise<void> };
let client: OpenAI;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  [openai, anthropic] = await Promise.all([
    startOpenAIServer(),
    startAnthropicServer({ reply: ['Hi', '.'] }),
  ]);
  // The primary is down for every test here: each turn fails over to Anthropic.
  openai.setDefault(openaiError(500, 'down'));
  const config = loadConfig({
    PORT: '0',
    OPENAI_API_KEY: 'sk-fake',
    OPENAI_BASE_URL: `${openai.url}/v1`,
    ANTHROPIC_API_KEY: 'sk-ant-fake',
    ANTHROPIC_BASE_URL: anthropic.url,
    MODEL_ROUTES: JSON.stringify({
      capped: [
        { target: 'openai:gpt-4o', maxTokens: 300 },
        { target: 'anthropic:claude-x', maxTokens: 300 },
      ],
      open: ['openai:gpt-4o', 'anthropic:claude-x'],
    }),
  });
  const log = createLogger('debug', {}, (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  const app = createChatApp({ config, log, fallback: { backoffBaseMs: 1, backoffMaxMs: 2 } });
  await warmRouteProviders(app, config);
  served = await serveOnLoopback(app.handler, { maxBodyBytes: config.maxBodyBytes });
  client = new OpenAI({ apiKey: 'none', baseURL: `${served.url}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await served.close();
  await Promise.all([openai.close(), anthropic.close()]);
});

beforeEach(() => {
  openai.requests.length = 0;
  anthropic.requests.length = 0;
});

/** The token limit each upstream was sent, for one voice-shaped turn. */
async function limitsFor(model: string, maxTokens: number | undefined) {
  const stream = await client.chat.completions.create({
    model,
    stream: true,
    ...(maxTokens !== undefined ? { max_tokens: maxTokens } : {}),
    temperature: 0.4,
    messages: [{ role: 'user', content: 'What do you see?' }],
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  expect(text).toBe('Hi.');
  const sent = (r: { body: unknown }) => r.body as Record<string, unknown>;
  return {
    openai: openai.requests.map((r) => sent(r).max_completion_tokens),
    anthropic: anthropic.requests.map((r) => sent(r).max_tokens),
  };
}

test.each([
  ['a client limit over the ceiling is capped, for both providers', 'capped', 2000, 300],
  ['a client limit under the ceiling stays, for both providers', 'capped', 50, 50],
  ['no client limit: the ceiling applies, for both providers', 'capped', undefined, 300],
  ['no ceiling: the client limit applies, for both providers', 'open', 70, 70],
])('%s', async (_name, model, clientLimit, expected) => {
  const limits = await limitsFor(model, clientLimit);
  // The primary was tried (and retried) before the failover.
  expect(limits.openai.length).toBeGreaterThan(0);
  expect(new Set(limits.openai)).toEqual(new Set([expected]));
  expect(limits.anthropic).toEqual([expected]);
});

test("Anthropic is not sent the client's temperature, and the drop is logged once at debug, not per turn", async () => {
  await limitsFor('open', 70);
  expect(openai.requests.every((r) => (r.body as Record<string, unknown>).temperature === 0.4)).toBe(true);
  expect(anthropic.requests.every((r) => !('temperature' in (r.body as Record<string, unknown>)))).toBe(true);
  // Every turn of this file (five) asked for a temperature; the line was written once.
  expect(lines.filter((l) => l.msg === 'call setting dropped')).toEqual([
    expect.objectContaining({ level: 'debug', provider: 'anthropic', setting: 'temperature' }),
  ]);
});
