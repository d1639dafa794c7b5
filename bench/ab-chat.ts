// A/B of two builds of the chat server against one fake upstream, in the same run: the tool for
// bisecting a latency regression. Each tree's bench/server-process.ts is bundled in that tree
// (its own node_modules), both servers run at once, and their rounds alternate.
//   AB_A=/path/to/old/checkout AB_B=. npx tsx bench/ab-chat.ts [--quick]
import { resolve } from 'node:path';
import { bundleScript, spawnTs } from './lib/processes';
import { agent, isOpenAIToken, runConcurrent, type StreamTiming, timedStream } from './lib/sse-client';
import { ms, percentile, table } from './lib/stats';

const TOKENS = 20;
const TOKEN_DELAY_MS = 10;
const ROUNDS = 8;
const messages = [{ role: 'user', content: 'Describe the picture.' }];

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const trees = { A: resolve(process.env.AB_A ?? '.'), B: resolve(process.env.AB_B ?? '.') };
  const upstream = await spawnTs<{ openai: string }>(
    'bench/upstream-process.ts',
    { TOKENS: String(TOKENS), TOKEN_DELAY_MS: String(TOKEN_DELAY_MS) },
    'openai',
  );
  const env = {
    OPENAI_API_KEY: 'sk-bench',
    OPENAI_BASE_URL: `${upstream.info.openai}/v1`,
    CHAT_API_KEY: 'bench',
    MODEL_ROUTES: JSON.stringify({ 'gpt-bench': ['openai:gpt-bench'] }),
    LOG_LEVEL: 'error',
  };
  const servers: Record<'A' | 'B', { url: string; stop(): Promise<void> }> = {} as never;
  for (const side of ['A', 'B'] as const) {
    const tree = trees[side];
    const script = await bundleScript(`${tree}/bench/server-process.ts`, `${tree}/.build/ab-server.mjs`);
    const s = await spawnTs<{ url: string }>(script, env, 'url');
    servers[side] = { url: s.info.url, stop: s.stop };
  }
  const direct = () =>
    timedStream(
      `${upstream.info.openai}/v1/chat/completions`,
      { model: 'gpt-bench', stream: true, stream_options: { include_usage: true }, messages },
      { authorization: 'Bearer sk-bench' },
      isOpenAIToken,
    );
  const via = (side: 'A' | 'B') => () =>
    timedStream(
      `${servers[side].url}/v1/chat/completions`,
      { model: 'gpt-bench', stream: true, messages },
      { authorization: 'Bearer bench' },
      isOpenAIToken,
    );
  const rows: string[][] = [];
  try {
    await runConcurrent(60, 10, async () => {
      await direct();
      await via('A')();
      await via('B')();
    });
    const streamMs = TOKENS * TOKEN_DELAY_MS + 40;
    for (const { concurrency, spreadMs } of [
      { concurrency: 1, spreadMs: 0 },
      { concurrency: 50, spreadMs: streamMs },
    ]) {
      const n = concurrency === 1 ? (quick ? 64 : 200) : quick ? 800 : 4000;
      const got: Record<'D' | 'A' | 'B', StreamTiming[]> = { D: [], A: [], B: [] };
      for (const f of [direct, via('A'), via('B')])
        await runConcurrent(concurrency * 2, concurrency, f, spreadMs);
      for (let round = 0; round < ROUNDS; round++) {
        got.D.push(...(await runConcurrent(n / ROUNDS, concurrency, direct, spreadMs)));
        got.A.push(...(await runConcurrent(n / ROUNDS, concurrency, via('A'), spreadMs)));
        got.B.push(...(await runConcurrent(n / ROUNDS, concurrency, via('B'), spreadMs)));
      }
      const p = (rs: StreamTiming[], q: number) =>
        percentile(
          rs.map((r) => r.ttftMs),
          q,
        );
      for (const side of ['A', 'B'] as const) {
        rows.push([
          side,
          String(concurrency),
          String(n),
          `${ms(p(got[side], 50) - p(got.D, 50))} / ${ms(p(got[side], 99) - p(got.D, 99))}`,
          got[side].every((r) => r.tokens === TOKENS && r.status === 200) ? 'yes' : 'NO',
        ]);
      }
    }
  } finally {
    agent.destroy();
    await servers.A?.stop();
    await servers.B?.stop();
    await upstream.stop();
  }
  process.stdout.write(`A = ${trees.A}\nB = ${trees.B}\n\n`);
  process.stdout.write(
    `${table(['build', 'streams', 'n', 'added TTFT p50 / p99 (ms)', 'all tokens'], rows)}\n`,
  );
}

void main();
