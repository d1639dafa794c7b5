// The providers built from configuration reach their upstreams through the transport
// UPSTREAM_HTTP names. The two differ on the wire: the runtime's fetch (undici) always sends
// `sec-fetch-mode`, node:http never does and names its connection `keep-alive`.
import { loadConfig } from '../../../shared/config';
import { chatRequestSchema } from '../../../shared/openai/schema';
import { createProviders } from '../../../shared/providers/registry';
import type { StreamEvent } from '../../../shared/providers/types';
import { anthropicReply, type FakeAnthropicServer, startAnthropicServer } from '../../fakes/anthropic-server';
import { type FakeOpenAIServer, openaiReply, startOpenAIServer } from '../../fakes/openai-server';

let openai: FakeOpenAIServer;
let anthropic: FakeAnthropicServer;

beforeEach(async () => {
  openai = await startOpenAIServer();
  openai.setDefault(openaiReply({ text: ['Hi', ' there'] }));
  anthropic = await startAnthropicServer();
  anthropic.setDefault(anthropicReply({ blocks: [{ type: 'text', text: ['Hi', ' there'] }] }));
});
afterEach(async () => {
  await openai.close();
  await anthropic.close();
});

const request = chatRequestSchema.parse({ model: 'm', messages: [{ role: 'user', content: 'hello' }] });

async function text(events: AsyncIterable<StreamEvent>): Promise<string> {
  let out = '';
  for await (const e of events) if (e.type === 'text') out += e.text;
  return out;
}

test.each([
  [{}, 'node'],
  [{ UPSTREAM_HTTP: 'node' }, 'node'],
  [{ UPSTREAM_HTTP: 'fetch' }, 'fetch'],
])('%j: both SDKs go through %s', async (env, expected) => {
  const config = loadConfig({
    ...env,
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: `${openai.url}/v1`,
    ANTHROPIC_API_KEY: 'sk-ant-test',
    ANTHROPIC_BASE_URL: anthropic.url,
  });
  const providers = createProviders(config);
  const signal = new AbortController().signal;
  expect(await text(providers.get('openai')!.stream({ model: 'gpt-4o', request, signal }))).toBe('Hi there');
  expect(await text(providers.get('anthropic')!.stream({ model: 'claude-x', request, signal }))).toBe(
    'Hi there',
  );
  for (const seen of [openai.requests[0]!, anthropic.requests[0]!]) {
    if (expected === 'node') {
      expect(seen.headers['sec-fetch-mode']).toBeUndefined();
      expect(seen.headers.connection).toBe('keep-alive');
    } else {
      expect(seen.headers['sec-fetch-mode']).toBe('cors');
    }
  }
});
