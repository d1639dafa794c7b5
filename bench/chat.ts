// Time to first token and total time through our server versus the same fake upstream called
// directly, in the same run, for the OpenAI and Anthropic paths, at 1 and 50 concurrent streams;
// then the Responses door against the chat door, same server, same upstream, same run.
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
/**
 * To check the bench itself runs (not to measure): BENCH_CHAT_SAMPLES caps every row's samples
 * (a multiple of 8), BENCH_CHAT_ROWS=doors runs only the door comparison.
 */
const SAMPLE_CAP = Number(process.env.BENCH_CHAT_SAMPLES) || Number.POSITIVE_INFINITY;
const ONLY_DOORS = process.env.BENCH_CHAT_ROWS === 'doors';

/** A text delta of the Responses door (its SSE data carries the event type). */
const isResponsesToken = (d: string): boolean => d.includes('"type":"response.output_text.delta"');

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

/** The Responses door against the chat door: both through our server, to the same upstream. */
export interface DoorBenchRow {
  concurrency: number;
  arrivals: string;
  n: number;
  chat: { ttftP50: number; ttftP99: number; totalP50: number };
  responses: { ttftP50: number; ttftP99: number; totalP50: number };
  /** Responses minus chat: what the second door adds over the first. */
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
}): Promise<{ rows: ChatBenchRow[]; doors: DoorBenchRow[]; markdown: string }> {
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
  // The same turn through each door: the chat door as ElevenLabs' default sends it, and the
  // Responses door as an agent with api_type "responses" sends it.
  const doorCalls = {
    chat: calls.openai.via,
    responses: () =>
      timedStream(
        `${server.info.url}/v1/responses`,
        { model: 'gpt-bench', stream: true, input: messages },
        { authorization: 'Bearer bench' },
        isResponsesToken,
      ),
  };
  const rows: ChatBenchRow[] = [];
  const doors: DoorBenchRow[] = [];
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
    for (const { concurrency, spreadMs, arrivals } of ONLY_DOORS ? [] : cases) {
      for (const path of ['openai', 'anthropic'] as const) {
        // Many samples at 50: a p99 is decided by its worst 1%, and on a shared machine those come
        // in clusters (a stall delays several streams at once), so it needs many clusters.
        const n = Math.min(SAMPLE_CAP, concurrency === 1 ? (opts.quick ? 64 : 200) : opts.quick ? 800 : 8000);
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
    await runConcurrent(40, 10, async () => {
      await doorCalls.chat();
      await doorCalls.responses();
    });
    for (const { concurrency, spreadMs, arrivals } of cases.slice(0, 2)) {
      const n = Math.min(SAMPLE_CAP, concurrency === 1 ? (opts.quick ? 64 : 400) : opts.quick ? 800 : 8000);
      const chat: StreamTiming[] = [];
      const responses: StreamTiming[] = [];
      await runConcurrent(concurrency * 2, concurrency, doorCalls.chat, spreadMs);
      await runConcurrent(concurrency * 2, concurrency, doorCalls.responses, spreadMs);
      for (let round = 0; round < ROUNDS; round++) {
        chat.push(...(await runConcurrent(n / ROUNDS, concurrency, doorCalls.chat, spreadMs)));
        responses.push(...(await runConcurrent(n / ROUNDS, concurrency, doorCalls.responses, spreadMs)));
      }
      const c = summarize(chat);
      const r = summarize(responses);
      doors.push({
        concurrency,
        arrivals,
        n,
        chat: c,
        responses: r,
        addedP50: r.ttftP50 - c.ttftP50,
        addedP99: r.ttftP99 - c.ttftP99,
        tokensEqual: [...chat, ...responses].every((t) => t.tokens === tokens && t.status === 200),
      });
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
  const doorTable = table(
    [
      'streams',
      'arrivals',
      'n',
      'TTFT chat door p50 / p99 (ms)',
      'TTFT Responses door p50 / p99 (ms)',
      'Responses - chat p50 / p99 (ms)',
      'total chat / Responses p50 (ms)',
      'all tokens',
    ],
    doors.map((d) => [
      d.concurrency,
      d.arrivals,
      d.n,
      `${ms(d.chat.ttftP50)} / ${ms(d.chat.ttftP99)}`,
      `${ms(d.responses.ttftP50)} / ${ms(d.responses.ttftP99)}`,
      `${ms(d.addedP50)} / ${ms(d.addedP99)}`,
      `${ms(d.chat.totalP50)} / ${ms(d.responses.totalP50)}`,
      d.tokensEqual ? 'yes' : 'NO',
    ]),
  );
  return {
    rows,
    doors,
    markdown: `${markdown}\n\nThe two doors, same server, same OpenAI fake upstream, same run (OpenAI path):\n\n${doorTable}`,
  };
}
