// Time to first token and total time through our server versus the same fake upstream called
// directly, in the same run, for the OpenAI and Anthropic paths, at 1 and 50 concurrent streams.
import { bundleScript, spawnTs } from './lib/processes';
import {
  agent,
  isAnthropicToken,
  isOpenAIToken,
  runConcurrent,
  type StreamTiming,
  timedStream,
} from './lib/sse-client';
import { ms, percentile, table } from './lib/stats';

const messages = [{ role: 'user', content: 'Describe the picture.' }];
/**
 * 100 tokens/s per stream: faster than real models stream (roughly 30-100 tokens/s), so 50
 * concurrent streams put more load on the server than 50 real conversations would.
 */
const TOKEN_DELAY_MS = 10;
/** Direct and via runs alternate this many times per row. */
const ROUNDS = 8;
/** Extra node flags for the server process, for experiments (none by default, as deployed). */
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);

export interface ChatBenchRow {
  path: 'openai' | 'anthropic';
  concurrency: number;
  arrivals: string;
  n: number;
  direct: { ttftP50: number; ttftP99: number; totalP50: number; gapMean: number };
  via: { ttftP50: number; ttftP99: number; totalP50: number; gapMean: number };
  addedP50: number;
  addedP99: number;
  tokensEqual: boolean;
}

function summarize(rs: StreamTiming[]) {
  const gaps = rs.flatMap((r) => r.gapsMs);
  return {
    ttftP50: percentile(
      rs.map((r) => r.ttftMs),
      50,
    ),
    ttftP99: percentile(
      rs.map((r) => r.ttftMs),
      99,
    ),
    totalP50: percentile(
      rs.map((r) => r.totalMs),
      50,
    ),
    gapMean: gaps.reduce((a, b) => a + b, 0) / Math.max(1, gaps.length),
  };
}

export async function benchChat(opts: {
  quick: boolean;
}): Promise<{ rows: ChatBenchRow[]; markdown: string }> {
  const tokens = 20;
  const upstream = await spawnTs<{ openai: string; anthropic: string }>(
    'bench/upstream-process.ts',
    { TOKENS: String(tokens), TOKEN_DELAY_MS: String(TOKEN_DELAY_MS) },
    'openai',
  );
  // Our server runs from an esbuild bundle, as in production, not through a TS loader.
  const serverScript = await bundleScript('bench/server-process.ts', '.build/bench-server.mjs');
  const server = await spawnTs<{ url: string }>(
    serverScript,
    {
      OPENAI_API_KEY: 'sk-bench',
      OPENAI_BASE_URL: `${upstream.info.openai}/v1`,
      ANTHROPIC_API_KEY: 'sk-ant-bench',
      ANTHROPIC_BASE_URL: upstream.info.anthropic,
      CHAT_API_KEY: 'bench',
      MODEL_ROUTES: JSON.stringify({
        'gpt-bench': ['openai:gpt-bench'],
        'claude-bench': ['anthropic:claude-bench'],
      }),
      LOG_LEVEL: 'error',
    },
    'url',
    SERVER_NODE_ARGS,
  );
  const calls = {
    openai: {
      // The same request our server sends upstream: it always asks for the usage chunk.
      direct: () =>
        timedStream(
          `${upstream.info.openai}/v1/chat/completions`,
          { model: 'gpt-bench', stream: true, stream_options: { include_usage: true }, messages },
          { authorization: 'Bearer sk-bench' },
          isOpenAIToken,
        ),
      via: () =>
        timedStream(
          `${server.info.url}/v1/chat/completions`,
          { model: 'gpt-bench', stream: true, messages },
          { authorization: 'Bearer bench' },
          isOpenAIToken,
        ),
    },
    anthropic: {
      direct: () =>
        timedStream(
          `${upstream.info.anthropic}/v1/messages`,
          { model: 'claude-bench', stream: true, max_tokens: 256, messages },
          { 'x-api-key': 'sk-ant-bench', 'anthropic-version': '2023-06-01' },
          isAnthropicToken,
        ),
      via: () =>
        timedStream(
          `${server.info.url}/v1/chat/completions`,
          { model: 'claude-bench', stream: true, messages },
          { authorization: 'Bearer bench' },
          isOpenAIToken,
        ),
    },
  };
  const rows: ChatBenchRow[] = [];
  try {
    // Warm both paths (connections, JIT) before measuring.
    for (const p of Object.values(calls)) {
      await runConcurrent(60, 10, async () => {
        await p.direct();
        await p.via();
      });
    }
    // 50 streams open at every moment, twice: with their starts spread over one stream's length
    // (independent conversations: about 200 turns start per second, evenly), and all started in
    // the same millisecond, again and again (a burst: 50 users starting a turn together).
    const streamMs = tokens * TOKEN_DELAY_MS + 40;
    const cases = [
      { concurrency: 1, spreadMs: 0, arrivals: 'one at a time' },
      { concurrency: 50, spreadMs: streamMs, arrivals: 'spread' },
      { concurrency: 50, spreadMs: 0, arrivals: 'burst' },
    ];
    for (const { concurrency, spreadMs, arrivals } of cases) {
      for (const path of ['openai', 'anthropic'] as const) {
        // Many samples at 50: a p99 is decided by its worst 1%, and on a shared machine those come
        // in clusters (a stall delays several streams at once), so it needs many clusters.
        const n = concurrency === 1 ? (opts.quick ? 64 : 200) : opts.quick ? 800 : 8000;
        const direct: StreamTiming[] = [];
        const via: StreamTiming[] = [];
        // Unrecorded: fill the connection pools (client to server, server to upstream, client to
        // upstream) to this row's concurrency, so the row measures turns, not connection setup.
        await runConcurrent(concurrency * 2, concurrency, calls[path].direct, spreadMs);
        await runConcurrent(concurrency * 2, concurrency, calls[path].via, spreadMs);
        // Alternate eighths so drift in machine load hits both sides alike.
        for (let round = 0; round < ROUNDS; round++) {
          direct.push(...(await runConcurrent(n / ROUNDS, concurrency, calls[path].direct, spreadMs)));
          via.push(...(await runConcurrent(n / ROUNDS, concurrency, calls[path].via, spreadMs)));
        }
        const d = summarize(direct);
        const v = summarize(via);
        rows.push({
          path,
          concurrency,
          arrivals,
          n,
          direct: d,
          via: v,
          addedP50: v.ttftP50 - d.ttftP50,
          addedP99: v.ttftP99 - d.ttftP99,
          tokensEqual:
            via.every((r) => r.tokens === tokens && r.status === 200) &&
            direct.every((r) => r.tokens === tokens),
        });
      }
    }
  } finally {
    agent.destroy();
    await server.stop();
    await upstream.stop();
  }
  const markdown = table(
    [
      'path',
      'streams',
      'arrivals',
      'n',
      'TTFT direct p50 / p99 (ms)',
      'TTFT via server p50 / p99 (ms)',
      'added p50 / p99 (ms)',
      'total direct / via p50 (ms)',
      'token gap direct / via (ms)',
      'all tokens',
    ],
    rows.map((r) => [
      r.path,
      r.concurrency,
      r.arrivals,
      r.n,
      `${ms(r.direct.ttftP50)} / ${ms(r.direct.ttftP99)}`,
      `${ms(r.via.ttftP50)} / ${ms(r.via.ttftP99)}`,
      `${ms(r.addedP50)} / ${ms(r.addedP99)}`,
      `${ms(r.direct.totalP50)} / ${ms(r.via.totalP50)}`,
      `${ms(r.direct.gapMean)} / ${ms(r.via.gapMean)}`,
      r.tokensEqual ? 'yes' : 'NO',
    ]),
  );
  return { rows, markdown };
}
