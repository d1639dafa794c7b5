// The provider SDKs' HTTP transport: the official `openai` and `@anthropic-ai/sdk` clients
// streaming from the same fake upstream, once through the runtime's fetch (undici, the SDKs'
// default) and once through our node:http transport (shared/providers/http-transport.ts), in
// the same process and run, alternating. Measures the SDK's CPU per streamed turn and its time
// to the first token, 50 streams at a time.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { createHttpTransport } from '../shared/providers/http-transport';
import { spawnTs } from './lib/processes';
import { runConcurrent } from './lib/sse-client';
import { ms, percentile, ratio, table } from './lib/stats';

const TOKENS = 20;

type Path = 'openai' | 'anthropic';
type Transport = 'runtime fetch' | 'node:http transport';

export async function benchTransport(opts: { quick: boolean }): Promise<{ markdown: string }> {
  const upstream = await spawnTs<{ openai: string; anthropic: string }>(
    'bench/upstream-process.ts',
    { TOKENS: String(TOKENS), TOKEN_DELAY_MS: '10' },
    'openai',
  );
  const nodeHttp = createHttpTransport();
  const clients = (fetch?: typeof nodeHttp) => ({
    openai: new OpenAI({
      apiKey: 'sk-bench',
      baseURL: `${upstream.info.openai}/v1`,
      maxRetries: 0,
      ...(fetch ? { fetch } : {}),
    }),
    anthropic: new Anthropic({
      apiKey: 'sk-ant-bench',
      baseURL: upstream.info.anthropic,
      maxRetries: 0,
      ...(fetch ? { fetch } : {}),
    }),
  });
  const sdks: Record<Transport, ReturnType<typeof clients>> = {
    'runtime fetch': clients(),
    'node:http transport': clients(nodeHttp),
  };

  /** One streamed turn; resolves with the time to its first text token. */
  async function turn(t: Transport, path: Path): Promise<number> {
    const t0 = performance.now();
    let first = Number.NaN;
    let tokens = 0;
    const seen = () => {
      tokens++;
      if (Number.isNaN(first)) first = performance.now() - t0;
    };
    if (path === 'openai') {
      const stream = await sdks[t].openai.chat.completions.create({
        model: 'gpt-bench',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'Describe the picture.' }],
      });
      for await (const c of stream) if (c.choices[0]?.delta?.content) seen();
    } else {
      const stream = await sdks[t].anthropic.messages.create({
        model: 'claude-bench',
        stream: true,
        max_tokens: 256,
        messages: [{ role: 'user', content: 'Describe the picture.' }],
      });
      for await (const e of stream) if (e.type === 'content_block_delta') seen();
    }
    if (tokens !== TOKENS) throw new Error(`${t} ${path}: ${tokens} tokens, expected ${TOKENS}`);
    return first;
  }

  /** `n` turns, 50 in flight, all starting together; CPU of this process per turn. */
  async function batch(t: Transport, path: Path, n: number) {
    const cpu0 = process.cpuUsage();
    const firsts = await runConcurrent(n, 50, () => turn(t, path));
    const cpu = process.cpuUsage(cpu0);
    return { cpuMs: (cpu.user + cpu.system) / 1000 / n, firsts };
  }

  const transports: Transport[] = ['runtime fetch', 'node:http transport'];
  const rows: (string | number)[][] = [];
  try {
    for (const path of ['openai', 'anthropic'] as const) {
      for (const t of transports) await batch(t, path, 100); // warm: JIT, connection pools
      const n = opts.quick ? 200 : 500;
      const acc: Record<Transport, { cpu: number[]; firsts: number[] }> = {
        'runtime fetch': { cpu: [], firsts: [] },
        'node:http transport': { cpu: [], firsts: [] },
      };
      for (let round = 0; round < 4; round++) {
        for (const t of transports) {
          const r = await batch(t, path, n);
          acc[t].cpu.push(r.cpuMs);
          acc[t].firsts.push(...r.firsts);
        }
      }
      const cpuOf = (t: Transport) => percentile(acc[t].cpu, 50);
      for (const t of transports) {
        rows.push([
          path,
          t,
          acc[t].firsts.length,
          ms(cpuOf(t)),
          ratio(cpuOf(t), cpuOf('runtime fetch')),
          ms(percentile(acc[t].firsts, 50)),
          ms(percentile(acc[t].firsts, 99)),
        ]);
      }
    }
  } finally {
    await upstream.stop();
  }
  const markdown = table(
    [
      'SDK',
      'transport',
      'n',
      'SDK CPU per turn (ms)',
      'vs runtime fetch',
      'first token p50 (ms)',
      'first token p99 (ms)',
    ],
    rows,
  );
  return { markdown };
}
