// Barge-in benchmark: what the upstream keeps spending after voice clients hang up mid-answer.
// The same 50 hang-ups run twice against the real chat app behind the real local host: once as
// the server does it now (the hang-up aborts the upstream), once with abort propagation cut off
// on the bench side (the behaviour before the fix: every upstream answer ran to its end).
import { createChatApp } from '../shared/chat/app';
import { loadConfig } from '../shared/config';
import type { HttpHandler } from '../shared/http/types';
import { silentLogger } from '../shared/observability/log';
import { openaiReply, startOpenAIServer } from '../test/fakes/openai-server';
import type { ScriptedServer } from '../test/fakes/scripted-server';
import { hangUpAfter } from '../test/helpers/hang-up';
import { serveOnLoopback } from '../test/helpers/serve';
import { table } from './lib/stats';

/** A 10 s answer (200 tokens, 50 ms apart); the caller interrupts after 1 s. */
const TOKENS = 200;
const TOKEN_DELAY_MS = 50;
const BARGE_IN_AFTER_MS = 1000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The behaviour before the fix, reproduced without touching the server: the handler never sees
 * the hang-up (its signal never aborts), and a stream the host stops reading is read to its end
 * anyway. Before the fix the host hung on a write instead of reading on, which costs the
 * upstream the same: it wrote its whole answer either way (measured, issue 9).
 */
function withoutAbortPropagation(handler: HttpHandler): HttpHandler {
  return async (req) => {
    const response = await handler(req, new AbortController().signal);
    if (!response.stream) return response;
    const inner = response.stream[Symbol.asyncIterator]();
    const drain = async () => {
      while (!(await inner.next()).done);
    };
    const detached: AsyncIterator<string> = {
      next: () => inner.next(),
      return: async () => {
        void drain();
        return { done: true, value: undefined };
      },
    };
    return { ...response, stream: { [Symbol.asyncIterator]: () => detached } };
  };
}

interface Outcome {
  /** Upstream answers still being written 1 s after the hang-ups. */
  runningAfter1s: number;
  /** Seconds of upstream streaming after the hang-ups, summed over the turns. */
  streamSeconds: number;
  /** Tokens the upstream produced after the hang-ups. */
  tokensAfter: number;
}

async function run(
  upstream: ScriptedServer,
  turns: number,
  stream: boolean,
  propagate: boolean,
): Promise<Outcome> {
  upstream.requests.length = 0;
  const config = loadConfig({ PORT: '0', OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: `${upstream.url}/v1` });
  const app = createChatApp({ config, log: silentLogger });
  const handler = propagate ? app.handler : withoutAbortPropagation(app.handler);
  const served = await serveOnLoopback(handler, { maxBodyBytes: config.maxBodyBytes });
  try {
    const body = JSON.stringify({
      model: 'gpt-4o',
      stream,
      messages: [{ role: 'user', content: 'Tell me everything about this picture.' }],
    });
    await Promise.all(Array.from({ length: turns }, () => hangUpAfter(served.url, body, BARGE_IN_AFTER_MS)));
    const hungUpAt = performance.now();
    const framesAtHangUp = upstream.requests.reduce((n, r) => n + r.framesSent, 0);
    await sleep(1000);
    const runningAfter1s = upstream.running();
    while (upstream.running() > 0) await sleep(50);
    const ended = upstream.requests.map((r) => r.endedAt ?? hungUpAt);
    return {
      runningAfter1s,
      streamSeconds: ended.reduce((s, t) => s + Math.max(0, t - hungUpAt), 0) / 1000,
      tokensAfter: upstream.requests.reduce((n, r) => n + r.framesSent, 0) - framesAtHangUp,
    };
  } finally {
    await served.close();
  }
}

export async function benchBargein(opts: { quick: boolean }): Promise<{ markdown: string }> {
  const turns = opts.quick ? 10 : 50;
  const upstream = await startOpenAIServer();
  const words = Array.from({ length: TOKENS }, (_, i) => ` w${i}`);
  upstream.setDefault(openaiReply({ text: words }, { delayMs: TOKEN_DELAY_MS }));
  const rows: (string | number)[][] = [];
  try {
    for (const stream of [true, false]) {
      for (const propagate of [false, true]) {
        const o = await run(upstream, turns, stream, propagate);
        rows.push([
          stream ? 'streamed' : 'not streamed',
          propagate ? 'after: the hang-up aborts the upstream' : 'before: abort not propagated',
          turns,
          o.runningAfter1s,
          o.streamSeconds.toFixed(2),
          o.tokensAfter,
        ]);
      }
    }
  } finally {
    await upstream.close();
  }
  const header = [
    'turn',
    'server',
    'barge-ins',
    'upstream streams running 1 s later',
    'upstream stream-seconds after the barge-ins',
    'upstream tokens after the barge-ins',
  ];
  const note = `Each turn: an answer of ${TOKENS} tokens, ${TOKEN_DELAY_MS} ms apart, interrupted after ${BARGE_IN_AFTER_MS} ms; all barge-ins at once.`;
  return { markdown: `${table(header, rows)}\n\n${note}` };
}
