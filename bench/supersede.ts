// Superseded turns on Lambda: what the upstream keeps spending after a user interrupts, when the
// function never learns that its client hung up (as on AWS). The chat bundle runs in AWS's runtime
// interface client behind the local function URL; each conversation's first turn is interrupted
// after 1 s (its client hangs up) and the conversation's next turn starts at that moment, in
// another execution environment. Run once with SUPERSEDE_TURNS=false (before) and once as shipped
// (after). A second table prices the mechanism on turns nobody interrupts: control-table calls
// per turn and time to first token, with and without it, in one process.
import { createChatApp } from '../shared/chat/app';
import { loadConfig } from '../shared/config';
import { silentLogger } from '../shared/observability/log';
import type { LiveTurnStore } from '../shared/turns/live-turn-store';
import { LiveTurns } from '../shared/turns/live-turns';
import { openaiReply, startOpenAIServer } from '../test/fakes/openai-server';
import type { ScriptedServer } from '../test/fakes/scripted-server';
import { hangUpAfter } from '../test/helpers/hang-up';
import { serveOnLoopback } from '../test/helpers/serve';
import { voiceTurnBody } from '../test/helpers/voice-turn';
import { buildBundles, startRuntimeApp } from '../test/integration/lambda/harness';
import { isOpenAIToken, timedStream } from './lib/sse-client';
import { median, percentile, table } from './lib/stats';

const TOKENS = 200;
const TOKEN_DELAY_MS = 50;
const INTERRUPT_AFTER_MS = 1000;
const CHAT_KEY = 'bench-key';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Interrupted {
  runningAfter1s: number;
  /** Upstream seconds spent on the interrupted answers after the interruption, per turn. */
  secondsPerTurn: number;
  tokensPerTurn: number;
}

async function interruptOnLambda(
  codeRoot: string,
  upstream: ScriptedServer,
  conversations: number,
  supersede: boolean,
): Promise<Interrupted> {
  const run = await startRuntimeApp(codeRoot, {
    llmSecret: { CHAT_API_KEY: CHAT_KEY, OPENAI_API_KEY: 'sk-bench' },
    overrides: { chat: { OPENAI_BASE_URL: `${upstream.url}/v1`, SUPERSEDE_TURNS: String(supersede) } },
  });
  const auth = { authorization: `Bearer ${CHAT_KEY}` };
  try {
    // Warm environments for both waves, so cold starts stay out of the measure.
    upstream.setDefault(openaiReply({ text: ['warm'] }, { delayMs: 300 }));
    await Promise.all(
      Array.from({ length: 2 * conversations }, () =>
        fetch(`${run.app.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...auth },
          body: JSON.stringify(voiceTurnBody('hi')),
        }).then((r) => r.text()),
      ),
    );
    upstream.requests.length = 0;
    const words = Array.from({ length: TOKENS }, (_, i) => ` w${i}`);
    upstream.setDefault(openaiReply({ text: words }, { delayMs: TOKEN_DELAY_MS }));
    const ids = Array.from({ length: conversations }, (_, i) => `conv_bench_${Date.now()}_${i}`);
    await Promise.all(
      ids.map((id) =>
        hangUpAfter(run.app.url, voiceTurnBody('Describe the room.'), INTERRUPT_AFTER_MS, {
          ...auth,
          'x-conversation-id': id,
        }),
      ),
    );
    const interruptedAt = performance.now();
    const framesAt = upstream.requests.reduce((n, r) => n + r.framesSent, 0);
    upstream.enqueue(...ids.map(() => openaiReply({ text: ['Sure', '.'] })));
    const next = ids.map((id) =>
      fetch(`${run.app.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth, 'x-conversation-id': id },
        body: JSON.stringify(voiceTurnBody('Stop, look at this.')),
      }).then((r) => r.text()),
    );
    await sleep(1000);
    const runningAfter1s = upstream.running();
    await Promise.all(next);
    while (upstream.running() > 0) await sleep(50);
    const first = upstream.requests.slice(0, conversations);
    const seconds =
      first.reduce((s, r) => s + Math.max(0, (r.endedAt ?? interruptedAt) - interruptedAt), 0) / 1000;
    const tokens = first.reduce((n, r) => n + r.framesSent, 0) - framesAt;
    return {
      runningAfter1s,
      secondsPerTurn: seconds / conversations,
      tokensPerTurn: tokens / conversations,
    };
  } finally {
    await run.app.close();
  }
}

interface Cost {
  ttftP50: number;
  ttftP99: number;
  writesPerTurn: number;
  readsPerTurn: number;
  answerMs: number;
}

/** Turns nobody interrupts, one conversation each, through one node-host process. */
async function costInProcess(upstream: ScriptedServer, turns: number, watched: boolean): Promise<Cost> {
  let writes = 0;
  let reads = 0;
  // The store's calls are counted and answered at once: what is measured is how often the
  // mechanism calls DynamoDB and whether the turn waits for it, not the emulator's speed.
  const holders = new Map<string, string>();
  const store: LiveTurnStore = {
    claim: async (key, claim) => {
      writes += 1;
      holders.set(key, claim.turnId);
    },
    holder: async (key) => {
      reads += 1;
      return holders.get(key);
    },
  };
  const config = loadConfig({
    PORT: '0',
    OPENAI_API_KEY: 'sk-bench',
    OPENAI_BASE_URL: `${upstream.url}/v1`,
    SUPERSEDE_TURNS: String(watched),
  });
  const app = createChatApp({
    config,
    log: silentLogger,
    ...(watched
      ? { liveTurns: new LiveTurns({ store, pollMs: config.liveTurns.pollMs, log: () => {} }) }
      : {}),
  });
  const served = await serveOnLoopback(app.handler, { maxBodyBytes: config.maxBodyBytes });
  const ttfts: number[] = [];
  const totals: number[] = [];
  try {
    for (let i = 0; i < turns; i++) {
      const r = await timedStream(
        `${served.url}/v1/chat/completions`,
        voiceTurnBody('hi'),
        { 'x-conversation-id': `conv_cost_${i}` },
        isOpenAIToken,
      );
      ttfts.push(r.ttftMs);
      totals.push(r.totalMs);
    }
  } finally {
    await served.close();
  }
  return {
    ttftP50: median(ttfts),
    ttftP99: percentile(ttfts, 99),
    writesPerTurn: writes / turns,
    readsPerTurn: reads / turns,
    answerMs: median(totals),
  };
}

export async function benchSupersede(opts: { quick: boolean }): Promise<{ markdown: string }> {
  const conversations = opts.quick ? 5 : 10;
  const upstream = await startOpenAIServer();
  const bundles = await buildBundles(['chat']);
  const rows: (string | number)[][] = [];
  const costRows: (string | number)[][] = [];
  try {
    for (const supersede of [false, true]) {
      const o = await interruptOnLambda(bundles.codeRoot, upstream, conversations, supersede);
      rows.push([
        supersede ? 'after: the next turn stops it' : 'before: runs to its end',
        conversations,
        o.runningAfter1s,
        o.secondsPerTurn.toFixed(2),
        o.tokensPerTurn.toFixed(1),
      ]);
    }
    // A 2 s answer (40 tokens, 50 ms apart): a typical spoken reply.
    upstream.setDefault(
      openaiReply({ text: Array.from({ length: 40 }, (_, i) => ` w${i}`) }, { delayMs: TOKEN_DELAY_MS }),
    );
    const turns = opts.quick ? 20 : 60;
    for (const watched of [false, true]) {
      const c = await costInProcess(upstream, turns, watched);
      costRows.push([
        watched ? 'one live turn per conversation' : 'SUPERSEDE_TURNS=false',
        turns,
        c.ttftP50.toFixed(2),
        c.ttftP99.toFixed(2),
        c.answerMs.toFixed(0),
        c.writesPerTurn.toFixed(2),
        c.readsPerTurn.toFixed(2),
      ]);
    }
  } finally {
    bundles.remove();
    await upstream.close();
  }
  const header = [
    'chat function on Lambda (runtime client)',
    'interrupted turns',
    'upstream streams running 1 s after the next turns',
    'upstream seconds per interrupted turn, after the interruption',
    'upstream tokens per interrupted turn, after it',
  ];
  const costHeader = [
    'turns nobody interrupts',
    'n',
    'TTFT p50 (ms)',
    'TTFT p99 (ms)',
    'answer p50 (ms)',
    'control-table writes per turn',
    'control-table reads per turn',
  ];
  const note = `Each interrupted turn: an answer of ${TOKENS} tokens ${TOKEN_DELAY_MS} ms apart; its client hangs up after ${INTERRUPT_AFTER_MS} ms (never signalled to the function, as on AWS) and the conversation's next turn starts then.`;
  return { markdown: `${table(header, rows)}\n\n${note}\n\n${table(costHeader, costRows)}` };
}
