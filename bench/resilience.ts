// Resilience benchmarks: what a hanging primary costs with a first-byte timeout and with hedging,
// against a healthy primary; the circuit breaker's cost per turn; and a soak of streamed turns at
// 50 concurrent with injected faults that must all be answered while memory stays flat.
import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startEmulators } from '../infra/local/emulators';
import { CircuitBreaker } from '../shared/routing/breaker';
import { type BreakerLike, noBreaker } from '../shared/routing/breaker-types';
import { bundleScript, spawnTs } from './lib/processes';
import { agent, isOpenAIToken, runConcurrent, type StreamTiming, timedStream } from './lib/sse-client';
import { median, ms, percentile, table } from './lib/stats';

const FIRST_BYTE_TIMEOUT_MS = 300;
const HEDGE_AFTER_MS = 100;
const messages = [{ role: 'user', content: 'Describe the picture.' }];

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

async function breakerCost(
  turns: number,
): Promise<{ withUs: number; withoutUs: number; readsPerTurn: number }> {
  const emu = await startEmulators({ tables: ['bench-control'], buckets: [] });
  try {
    const raw = new DynamoDBClient({
      endpoint: emu.dynamoEndpoint,
      region: emu.region,
      credentials: emu.credentials,
    });
    let calls = 0;
    const doc = DynamoDBDocumentClient.from(raw);
    const send = doc.send.bind(doc);
    doc.send = ((cmd: Parameters<typeof send>[0]) => {
      calls++;
      return send(cmd);
    }) as typeof doc.send;
    const breaker = new CircuitBreaker({ client: doc, tableName: 'bench-control', log: () => {} });
    const turn = async (b: BreakerLike) => {
      const a = await b.admit('openai:gpt-4o');
      await b.recordSuccess('openai:gpt-4o', a);
    };
    for (let i = 0; i < 200; i++) await turn(breaker);
    const time = async (b: BreakerLike) => {
      const t0 = performance.now();
      for (let i = 0; i < turns; i++) await turn(b);
      return ((performance.now() - t0) * 1000) / turns;
    };
    const withoutUs = await time(noBreaker);
    calls = 0;
    const t0 = performance.now();
    const withUs = await time(breaker);
    const seconds = (performance.now() - t0) / 1000;
    // Turns in a real container are spread over time; reads happen once per cache period.
    return { withUs, withoutUs, readsPerTurn: calls / turns, ...{ seconds } };
  } finally {
    await emu.close();
  }
}

export async function benchResilience(opts: { quick: boolean }): Promise<{ markdown: string }> {
  const upstream = await spawnTs<{ openai: string; hanging: string; faulty: string }>(
    'bench/upstream-process.ts',
    { TOKENS: '20', TOKEN_DELAY_MS: '10', FAULT_RATE: '0.06' },
    'openai',
  );
  const script = await bundleScript('bench/server-process.ts', '.build/bench-server.mjs');
  const env = {
    OPENAI_API_KEY: 'sk-bench',
    OPENAI_BASE_URL: `${upstream.info.openai}/v1`,
    COMPATIBLE_PROVIDERS: JSON.stringify({
      hang: { baseURL: `${upstream.info.hanging}/v1` },
      faulty: { baseURL: `${upstream.info.faulty}/v1` },
    }),
    MODEL_ROUTES: JSON.stringify({
      healthy: ['openai:gpt-bench'],
      'hang-timeout': {
        targets: ['hang:gpt-bench', 'openai:gpt-bench'],
        firstByteTimeoutMs: FIRST_BYTE_TIMEOUT_MS,
      },
      'hang-hedge': {
        targets: ['hang:gpt-bench', 'openai:gpt-bench'],
        firstByteTimeoutMs: 5000,
        hedgeAfterMs: HEDGE_AFTER_MS,
      },
      soak: { targets: ['faulty:gpt-bench', 'openai:gpt-bench'], firstByteTimeoutMs: FIRST_BYTE_TIMEOUT_MS },
    }),
    LOG_LEVEL: 'error',
  };
  // No control table: the hanging primary is tried on every turn (with the breaker on, five
  // timeouts would open its circuit and later turns would skip it at no cost at all).
  const server = await spawnTs<{ url: string; pid: number }>(script, env, 'url', ['--expose-gc']);
  const heapAfterGc = async () =>
    ((await (await fetch(`${server.info.url}/__bench/heap`)).json()) as { heapUsed: number }).heapUsed /
    (1024 * 1024);
  const turn = (model: string) =>
    timedStream(
      `${server.info.url}/v1/chat/completions`,
      { model, stream: true, messages },
      {},
      isOpenAIToken,
    );
  try {
    for (const m of ['healthy', 'hang-timeout', 'hang-hedge']) await runConcurrent(5, 1, () => turn(m));
    const n = opts.quick ? 15 : 40;
    const results: Record<string, StreamTiming[]> = { healthy: [], 'hang-timeout': [], 'hang-hedge': [] };
    for (let i = 0; i < n; i++) for (const m of Object.keys(results)) results[m]!.push(await turn(m));
    const p50 = (m: string) =>
      percentile(
        results[m]!.map((r) => r.ttftMs),
        50,
      );
    const healthy = p50('healthy');
    const rows = [
      [
        'healthy primary',
        '-',
        ms(healthy),
        ms(
          percentile(
            results.healthy!.map((r) => r.ttftMs),
            99,
          ),
        ),
        '-',
        '-',
      ],
      [
        `primary hangs, first-byte timeout ${FIRST_BYTE_TIMEOUT_MS} ms`,
        `${FIRST_BYTE_TIMEOUT_MS} ms`,
        ms(p50('hang-timeout')),
        ms(
          percentile(
            results['hang-timeout']!.map((r) => r.ttftMs),
            99,
          ),
        ),
        ms(p50('hang-timeout') - healthy),
        ms(p50('hang-timeout') - healthy - FIRST_BYTE_TIMEOUT_MS),
      ],
      [
        `primary hangs, hedge after ${HEDGE_AFTER_MS} ms`,
        `${HEDGE_AFTER_MS} ms`,
        ms(p50('hang-hedge')),
        ms(
          percentile(
            results['hang-hedge']!.map((r) => r.ttftMs),
            99,
          ),
        ),
        ms(p50('hang-hedge') - healthy),
        ms(p50('hang-hedge') - healthy - HEDGE_AFTER_MS),
      ],
    ];
    const hangMd = table(
      [
        'case',
        'configured wait',
        'TTFT p50 (ms)',
        'TTFT p99 (ms)',
        'added vs healthy p50 (ms)',
        'beyond the configured wait (ms)',
      ],
      rows,
    );

    // Soak: every request answered (a complete stream or a clean error), memory flat.
    const total = opts.quick ? 1500 : 5000;
    const outcomes = { complete: 0, errorEvent: 0, errorStatus: 0, hung: 0 };
    const rss: number[] = [];
    const heap: number[] = [];
    const soakTurn = async () => {
      const ctrl = new AbortController();
      const timer = setTimeout(() => ctrl.abort(), 15_000);
      try {
        const res = await fetch(`${server.info.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'soak', stream: true, messages }),
          signal: ctrl.signal,
        });
        const text = await res.text();
        if (res.status !== 200) outcomes.errorStatus++;
        else if (text.endsWith('data: [DONE]\n\n')) outcomes.complete++;
        else if (/data: \{"error":/.test(text)) outcomes.errorEvent++;
        else outcomes.hung++;
      } catch {
        outcomes.hung++;
      } finally {
        clearTimeout(timer);
      }
    };
    const t0 = performance.now();
    const chunk = total / 5;
    for (let i = 0; i < 5; i++) {
      await runConcurrent(chunk, 50, soakTurn);
      rss.push(rssMiB(server.info.pid));
      heap.push(await heapAfterGc());
    }
    const soakSeconds = (performance.now() - t0) / 1000;
    const breaker = await breakerCost(opts.quick ? 2000 : 10_000);
    const soakMd = table(
      ['measure', 'value'],
      [
        [
          'soak: streamed turns at 50 concurrent, ~6% injected faults (500, cut mid-stream, hang)',
          `${total} in ${soakSeconds.toFixed(1)} s`,
        ],
        [
          'complete streams ([DONE]) / error event then end / error status / unanswered',
          `${outcomes.complete} / ${outcomes.errorEvent} / ${outcomes.errorStatus} / ${outcomes.hung}`,
        ],
        [
          'server heap in use after a full GC, after each fifth (MiB)',
          heap.map((h) => h.toFixed(1)).join(', '),
        ],
        [
          'heap growth from the first fifth to the last',
          `${(((heap.at(-1)! - heap[0]!) / heap[0]!) * 100).toFixed(1)}%`,
        ],
        ['server RSS after each fifth (MiB; V8 keeps freed pages)', rss.map((r) => r.toFixed(0)).join(', ')],
        [
          'breaker per turn (admit + record success), warm cache',
          `${breaker.withUs.toFixed(1)} µs vs ${breaker.withoutUs.toFixed(1)} µs without a breaker`,
        ],
        ['DynamoDB calls per turn (back-to-back turns, 1 s state cache)', breaker.readsPerTurn.toFixed(4)],
      ],
    );
    void median;
    return { markdown: `${hangMd}\n\n${soakMd}` };
  } finally {
    agent.destroy();
    await server.stop();
    await upstream.stop();
  }
}
