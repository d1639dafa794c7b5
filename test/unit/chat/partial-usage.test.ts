import { estimatePromptTokens, UsageMeter } from '../../../shared/chat/partial-usage';
import { turnMetricsEmf } from '../../../shared/observability/metrics';
import type { ChatRequest } from '../../../shared/openai/schema';

const request: ChatRequest = {
  model: 'gpt-4o',
  messages: [
    { role: 'system', content: 'x'.repeat(400) },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'y'.repeat(40) },
        { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,AAAA' } },
      ],
    },
  ],
} as ChatRequest;

test('an interrupted turn reports the usage the upstream sent, as reported', () => {
  const m = new UsageMeter();
  m.add({ type: 'text', text: 'Hello there' });
  m.add({ type: 'usage', usage: { prompt_tokens: 900, completion_tokens: 3, total_tokens: 903 } });
  expect(m.partial(request, { name: 'openai', kind: 'openai' })).toEqual({
    usage: { prompt_tokens: 900, completion_tokens: 3, total_tokens: 903 },
    estimated: false,
  });
});

test('without a report, completion tokens come from the streamed text and the prompt is estimated', () => {
  const m = new UsageMeter();
  m.add({ type: 'text', text: 'a'.repeat(38) });
  m.add({ type: 'tool_call', index: 0, id: 'c1', name: 'look', arguments: '{}' });
  const p = m.partial(request, { name: 'openai', kind: 'openai' });
  expect(p?.estimated).toBe(true);
  // 38 + 4 + 2 characters at 4 per token.
  expect(p?.usage.completion_tokens).toBe(11);
  // 440 characters of text (110 tokens) and one image at OpenAI's high-detail rate for a
  // normalized 4:3 photo (1238 x 928 -> 1024 x 768: 4 tiles, 765 tokens).
  expect(p?.usage.prompt_tokens).toBe(110 + 765);
  expect(p?.usage.total_tokens).toBe(p!.usage.prompt_tokens + 11);
});

test('images are priced by the provider that was streaming', () => {
  const openai = estimatePromptTokens(request, 'openai');
  const anthropic = estimatePromptTokens(request, 'anthropic');
  expect(anthropic).not.toBe(openai);
  const m = new UsageMeter();
  m.add({ type: 'text', text: 'hi' });
  expect(m.partial(request, { name: 'claude', kind: 'anthropic' })?.usage.prompt_tokens).toBe(anthropic);
});

test('a turn cut before the upstream produced anything has no usage to account', () => {
  expect(new UsageMeter().partial(request, { name: 'openai', kind: 'openai' })).toBeUndefined();
});

test('a client abort is a ClientAborts metric, not a TurnErrors one', () => {
  const base = {
    requestId: 'r',
    requestedModel: 'm',
    route: '*',
    attempts: [],
    stream: true,
    imageCount: 0,
    totalMs: 5,
  };
  expect(turnMetricsEmf({ ...base, status: 499, error: 'client_disconnected' }, 'test')).toMatchObject({
    TurnErrors: 0,
    ClientAborts: 1,
  });
  expect(turnMetricsEmf({ ...base, status: 502, error: 'http_5xx' }, 'test')).toMatchObject({
    TurnErrors: 1,
    ClientAborts: 0,
  });
});
