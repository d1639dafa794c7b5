// The chat function's composition: images are an addition, never a condition for answering.
import { composeChat } from '../../../functions/chat/compose';
import { loadConfig } from '../../../shared/config';
import { createLogger } from '../../../shared/observability/log';
import { type FakeOpenAIServer, startOpenAIServer } from '../../fakes/openai-server';

let upstream: FakeOpenAIServer;
beforeAll(async () => {
  upstream = await startOpenAIServer({ reply: ['still', ' here'] });
});
afterAll(() => upstream.close());

test('when the image stack cannot load, chat still answers and the failure is logged', async () => {
  const env = { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: `${upstream.url}/v1` };
  const lines: string[] = [];
  const app = await composeChat(
    loadConfig(env),
    createLogger('info', {}, (l) => lines.push(l)),
    {
      composeImageContext: async () => {
        throw new Error("Cannot find package 'sharp'");
      },
      writeMetrics: () => {},
    },
  );
  const res = await app.handler(
    {
      method: 'POST',
      path: '/v1/chat/completions',
      headers: {},
      query: {},
      body: Buffer.from(JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })),
      sourceIp: '',
    },
    new AbortController().signal,
  );
  expect(res.status).toBe(200);
  expect(JSON.parse(res.body!).choices[0].message.content).toBe('still here');
  const logged = lines
    .map((l) => JSON.parse(l))
    .find((l) => l.msg === 'image context unavailable; answering turns without images');
  expect(logged.error.message).toContain('sharp');
});
