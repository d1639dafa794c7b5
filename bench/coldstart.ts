// Cold start in AWS's runtime interface client: the chat function's init duration (process start
// to the runtime's first GET /invocation/next, which is what Lambda reports as Init Duration) and
// its first request through the local function URL, against a trivial streaming function started
// the same way in the same run. Every sample is a fresh execution environment.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { FunctionUrl } from '../infra/local/lambda/function-url';
import { type LambdaApp, startLambdaApp } from '../infra/local/lambda/lambda-app';
import { bundleFunction } from '../scripts/build';
import { startOpenAIServer } from '../test/fakes/openai-server';
import { median, ms, percentile, table } from './lib/stats';

const ROOT = '.build/bench-coldstart';
const CHAT_KEY = 'bench-chat-key';

/** The smallest streaming function: one SSE frame through the prelude, then the end. */
const TRIVIAL = `export const handler = awslambda.streamifyResponse(async (event, stream) => {
  stream = awslambda.HttpResponseStream.from(stream, { statusCode: 200, headers: { 'content-type': 'text/event-stream' } });
  stream.write('data: [DONE]\\n\\n');
  stream.end();
});
`;

interface Sample {
  initMs: number;
  firstMs: number;
  /** The first request less the init: what it waits for once the runtime takes it. */
  afterInitMs: number;
  warmMs: number;
}

async function timed(url: string, body: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${CHAT_KEY}` },
    body,
  });
  const text = await res.text();
  if (res.status !== 200 || !text.includes('[DONE]'))
    throw new Error(`cold start bench: ${res.status} ${text.slice(0, 200)}`);
  return performance.now() - t0;
}

/** One fresh environment: its init, its first request (init included) and one warm request. */
async function sample(fn: FunctionUrl, url: string, body: string): Promise<Sample> {
  fn.close();
  const firstMs = await timed(url, body);
  const env = fn.live[0]!;
  const initMs = env.initDoneAt! - env.spawnedAt;
  const warmMs = await timed(url, body);
  return { initMs, firstMs, afterInitMs: firstMs - initMs, warmMs };
}

function serve(fn: FunctionUrl): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => void fn.handle(req, res));
  return new Promise((done) =>
    server.listen(0, '127.0.0.1', () =>
      done({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions` }),
    ),
  );
}

export async function benchColdstart(opts: {
  quick: boolean;
}): Promise<{ markdown: string; addedInitMs: number }> {
  const runs = opts.quick ? 5 : 15;
  mkdirSync(`${ROOT}/trivial`, { recursive: true });
  writeFileSync(`${ROOT}/trivial/index.mjs`, TRIVIAL);
  await bundleFunction('chat', `${ROOT}/chat`);
  const upstream = await startOpenAIServer({ reply: ['Hi', ' there.'] });
  let app: LambdaApp | undefined;
  let trivialServer: Server | undefined;
  try {
    // The chat function exactly as the stack configures it (handler, environment, memory), its
    // keys read from the Secrets Manager stand-in at cold start.
    app = await startLambdaApp({
      projectRoot: process.cwd(),
      codeRoot: ROOT,
      llmSecret: { CHAT_API_KEY: CHAT_KEY, OPENAI_API_KEY: 'sk-bench' },
      overrides: { chat: { OPENAI_BASE_URL: `${upstream.url}/v1`, LOG_LEVEL: 'error' } },
    });
    const chat = app.urls.chat;
    const trivial = new FunctionUrl({
      name: 'trivial',
      handler: 'index.handler',
      codeDir: resolve(ROOT, 'trivial'),
      projectRoot: process.cwd(),
      timeoutSeconds: 30,
      memoryMb: 1024,
      invokeMode: 'RESPONSE_STREAM',
      environment: {},
      region: 'us-east-1',
      maxConcurrency: 1,
      onLog: () => {},
      onEvent: () => {},
    });
    const t = await serve(trivial);
    trivialServer = t.server;
    const turn = JSON.stringify({
      model: 'gpt-4o',
      stream: true,
      max_tokens: -1,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const chatUrl = `${app.url}/v1/chat/completions`;
    // One of each first, not measured: disk cache and the runtime client's own files warm.
    await sample(trivial, t.url, turn);
    await sample(chat, chatUrl, turn);
    const chatSamples: Sample[] = [];
    const trivialSamples: Sample[] = [];
    for (let i = 0; i < runs; i++) {
      // Interleaved, so a noisy moment on the shared machine hits both alike.
      trivialSamples.push(await sample(trivial, t.url, turn));
      chatSamples.push(await sample(chat, chatUrl, turn));
    }
    trivial.close();
    const p = (xs: Sample[], k: keyof Sample, q: number) =>
      percentile(
        xs.map((s) => s[k]),
        q,
      );
    const row = (name: string, xs: Sample[]) => [
      name,
      xs.length,
      `${ms(p(xs, 'initMs', 50))} / ${ms(p(xs, 'initMs', 90))}`,
      `${ms(p(xs, 'firstMs', 50))} / ${ms(p(xs, 'firstMs', 90))}`,
      ms(p(xs, 'afterInitMs', 50)),
      ms(p(xs, 'warmMs', 50)),
    ];
    const med = (xs: Sample[], k: keyof Sample) => median(xs.map((s) => s[k]));
    const addedInitMs = med(chatSamples, 'initMs') - med(trivialSamples, 'initMs');
    const markdown = table(
      [
        'function (runtime interface client, fresh environment each)',
        'n',
        'init duration p50 / p90 (ms)',
        'first request p50 / p90 (ms, init included)',
        'first request after init p50 (ms)',
        'warm request p50 (ms)',
      ],
      [
        row('trivial streaming function (baseline)', trivialSamples),
        row('chat (stack environment, secret read, OpenAI turn)', chatSamples),
        [
          'chat added over the baseline (p50)',
          '',
          ms(addedInitMs),
          ms(med(chatSamples, 'firstMs') - med(trivialSamples, 'firstMs')),
          ms(med(chatSamples, 'afterInitMs') - med(trivialSamples, 'afterInitMs')),
          ms(med(chatSamples, 'warmMs') - med(trivialSamples, 'warmMs')),
        ],
      ],
    );
    return { markdown, addedInitMs };
  } finally {
    trivialServer?.closeAllConnections();
    trivialServer?.close();
    await app?.close();
    await upstream.close();
  }
}
