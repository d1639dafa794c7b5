// Image generation benchmarks, each against a baseline from the same run and the same fakes:
// (a) a chat turn's added time to first token with generate_image offered vs not (a route that
// says `imageGeneration: false`) vs the fake model called directly; (b) the tool round trip's
// added latency: our time between the model's tool call and the second call's first token, the
// model's own time (both calls made directly) taken out; (c) confirmation to ready through the
// fake image provider (job, normalization, S3, DynamoDB) vs calling the fake directly.
import { createBrowserSession } from '../test/helpers/dev-server';
import { IMAGE_TOOL_MARKER } from './lib/image-tool';
import { bundleScript, spawnTs } from './lib/processes';
import { agent, isOpenAIToken, runConcurrent, type StreamTiming, timedStream } from './lib/sse-client';
import { median, ms, percentile, ratio, table } from './lib/stats';

const ORIGIN = 'http://bench.local';
const TOKENS = 20;
const TOKEN_DELAY_MS = 10;
const IMAGE_ENTRY = 'benchimg:bench-image:medium';

/** The tool as the server offers it, for the direct calls (the fake only checks its name). */
const toolOffer = { type: 'function', function: { name: 'generate_image', parameters: { type: 'object' } } };

export async function benchImagegen(opts: { quick: boolean }): Promise<{ markdown: string }> {
  const upstream = await spawnTs<{ tooling: string; images: string }>(
    'bench/upstream-process.ts',
    { TOKENS: String(TOKENS), TOKEN_DELAY_MS: String(TOKEN_DELAY_MS) },
    'tooling',
  );
  const script = await bundleScript('bench/server-process.ts', '.build/bench-server.mjs');
  const server = await spawnTs<{ url: string }>(
    script,
    {
      WITH_EMULATORS: '1',
      OPENAI_API_KEY: 'sk-bench',
      OPENAI_BASE_URL: `${upstream.info.tooling}/v1`,
      MODEL_ROUTES: JSON.stringify({
        'gpt-4o': ['openai:gpt-4o'],
        'no-image': { targets: ['openai:gpt-4o'], imageGeneration: false },
      }),
      IMAGE_GENERATION: 'true',
      IMAGE_MODERATION: 'off',
      IMAGE_PROVIDERS: JSON.stringify({ benchimg: { baseURL: `${upstream.info.images}/v1` } }),
      // Above the auto-approve amount, so a generation waits for its confirmation.
      IMAGE_CATALOG: JSON.stringify({
        [IMAGE_ENTRY]: {
          provider: 'benchimg',
          model: 'bench-image',
          quality: 'medium',
          sizes: { square: '1024x1024', landscape: '1536x1024', portrait: '1024x1536' },
          priceUsd: 0.05,
          priceSource: 'bench fake',
          priority: 1,
        },
      }),
      IMAGE_LIMIT_PER_SESSION: '10000',
      IMAGE_LIMIT_PER_USER_PER_HOUR: '100000',
      IMAGE_MAX_USD_PER_USER_PER_DAY: '100000',
      ALLOWED_ORIGINS: ORIGIN,
      LOG_LEVEL: 'error',
      RATE_LIMIT_SESSIONS_PER_IP_PER_MINUTE: '100000',
      RATE_LIMIT_REQUESTS_PER_IP_PER_MINUTE: '100000',
    },
    'url',
  );
  const base = server.info.url;
  const model = `${upstream.info.tooling}/v1/chat/completions`;
  try {
    const ask = (text: string) => [
      { role: 'system', content: 'You are a voice agent.' },
      { role: 'user', content: text },
    ];
    const viaServer = (route: string, sessionId: string, text: string) =>
      timedStream(
        `${base}/v1/chat/completions`,
        { model: route, stream: true, messages: ask(text), elevenlabs_extra_body: { session_id: sessionId } },
        {},
        isOpenAIToken,
      );
    const direct = (body: Record<string, unknown>) =>
      timedStream(
        model,
        { model: 'gpt-4o', stream: true, ...body },
        { authorization: 'Bearer sk-bench' },
        isOpenAIToken,
      );
    const drawText = `Draw a red fox in the snow. ${IMAGE_TOOL_MARKER}`;
    // The model's own time for a drawing turn: the tool call streamed to its end, then the
    // continuation's first token (the request carrying the call and a result, as ours does).
    const directToolCall = () => direct({ messages: ask(drawText), tools: [toolOffer] });
    const directContinuation = () =>
      direct({
        messages: [
          ...ask(drawText),
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_bench', type: 'function', function: { name: 'generate_image', arguments: '{}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_bench', content: '{"status":"awaiting_confirmation"}' },
        ],
        tools: [toolOffer],
      });

    const plainSession = (await createBrowserSession(base, ORIGIN)).sessionId;
    const cases: Record<string, () => Promise<StreamTiming>> = {
      'direct (the fake model)': () => direct({ messages: ask('Hello') }),
      'via server, tool not offered': () => viaServer('no-image', plainSession, 'Hello'),
      'via server, tool offered': () => viaServer('gpt-4o', plainSession, 'Hello'),
    };
    for (const f of Object.values(cases)) await runConcurrent(10, 2, f);
    const n = opts.quick ? 6 : 200;
    const got: Record<string, StreamTiming[]> = {};
    for (const name of Object.keys(cases)) got[name] = [];
    // Interleaved, so machine noise hits each case alike.
    for (let i = 0; i < n; i++) for (const [name, f] of Object.entries(cases)) got[name]!.push(await f());
    const p = (rs: StreamTiming[], q: number) =>
      percentile(
        rs.map((r) => r.ttftMs),
        q,
      );
    const baseline = p(got['direct (the fake model)']!, 50);
    const notOffered = p(got['via server, tool not offered']!, 50);
    const offerRows = Object.entries(got).map(([name, rs]) => [
      name,
      rs.length,
      ms(p(rs, 50)),
      ms(p(rs, 99)),
      ms(p(rs, 50) - baseline),
      ratio(p(rs, 50), baseline),
    ]);
    const offeredCost = p(got['via server, tool offered']!, 50) - notOffered;

    // (b) A drawing turn: the model calls the tool, we answer it (an estimate: the candidates,
    // the breaker states, the record written) and call the model again. A fresh session each
    // time, so the note and the records stay as in the offered case above.
    const sessions: string[] = [];
    for (let i = 0; i < n + 4; i++) sessions.push((await createBrowserSession(base, ORIGIN)).sessionId);
    for (let i = 0; i < 4; i++) await viaServer('gpt-4o', sessions.pop()!, drawText);
    const tool: StreamTiming[] = [];
    const model1: number[] = [];
    const model2: number[] = [];
    const offeredAgain: StreamTiming[] = [];
    const directAgain: StreamTiming[] = [];
    for (let i = 0; i < n; i++) {
      tool.push(await viaServer('gpt-4o', sessions.pop()!, drawText));
      model1.push((await directToolCall()).totalMs);
      model2.push((await directContinuation()).ttftMs);
      offeredAgain.push(await cases['via server, tool offered']!());
      directAgain.push(await cases['direct (the fake model)']!());
    }
    const modelMs = median(model1) + median(model2);
    const toolTtft = p(tool, 50);
    const turnOverhead = p(offeredAgain, 50) - p(directAgain, 50);
    const roundTrip = toolTtft - modelMs - turnOverhead;
    if (tool.some((t) => t.status !== 200 || t.tokens !== TOKENS))
      throw new Error('a drawing turn did not stream the continuation in full');

    // (c) Confirmation to ready: POST .../confirm at t0, the job's finishedAt (same clock) at the end.
    const fakeBody = JSON.stringify({ model: 'bench-image', prompt: 'a red fox', n: 1, size: '1024x1024' });
    const callFake = async () => {
      const t0 = performance.now();
      const res = await fetch(`${upstream.info.images}/v1/images/generations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer none' },
        body: fakeBody,
      });
      await res.arrayBuffer();
      return performance.now() - t0;
    };
    const runs = opts.quick ? 3 : 40;
    const confirmToReady: number[] = [];
    const fakeDirect: number[] = [];
    for (let i = 0; i < runs + 1; i++) {
      const session = await createBrowserSession(base, ORIGIN);
      const headers = {
        origin: ORIGIN,
        'x-session-secret': session.sessionSecret,
        'content-type': 'application/json',
      };
      const url = `${base}/sessions/${session.sessionId}/generations`;
      const asked = (await (
        await fetch(url, {
          method: 'POST',
          headers,
          body: JSON.stringify({ prompt: 'a red fox in the snow' }),
        })
      ).json()) as { generationId: string; status: string };
      if (asked.status !== 'awaiting_confirmation')
        throw new Error(`expected an estimate: ${JSON.stringify(asked)}`);
      const t0 = Date.now();
      await (await fetch(`${url}/${asked.generationId}/confirm`, { method: 'POST', headers })).arrayBuffer();
      let view: { status: string; finishedAt: string | null; provider: string | null };
      for (;;) {
        view = (await (await fetch(`${url}/${asked.generationId}`, { headers })).json()) as typeof view;
        if (view.status !== 'queued' && view.status !== 'running') break;
        await new Promise((r) => setTimeout(r, 20));
      }
      if (view.status !== 'ready' || view.provider !== 'benchimg')
        throw new Error(`generation ended ${view.status} by ${view.provider}`);
      const fake = await callFake();
      // The first of each is a warm-up (SDK and sharp loaded, connections opened).
      if (i === 0) continue;
      confirmToReady.push(Date.parse(view.finishedAt!) - t0);
      fakeDirect.push(fake);
    }

    const offerMd = table(
      [
        '(a) chat turn with a session',
        'n',
        'TTFT p50 (ms)',
        'TTFT p99 (ms)',
        'added p50 vs direct (ms)',
        'ratio',
      ],
      offerRows,
    );
    const toolMd = table(
      ['(b) the generate_image round trip', 'p50 (ms)'],
      [
        ["drawing turn via the server: TTFT (the continuation's first token)", ms(toolTtft)],
        ["the model's own time, called directly: tool call to its end + continuation TTFT", ms(modelMs)],
        ["a turn's usual overhead (offered turn via server - direct, same rounds)", ms(turnOverhead)],
        ['**added by the round trip** (TTFT - model - usual overhead)', ms(roundTrip)],
      ],
    );
    const readyMd = table(
      ['(c) an image, 1024x1024 PNG from the fake provider', 'n', 'p50 (ms)', 'max (ms)'],
      [
        [
          'confirmation to ready through the server (job, normalize, S3, DynamoDB)',
          runs,
          ms(median(confirmToReady)),
          ms(Math.max(...confirmToReady)),
        ],
        ['the fake provider called directly', runs, ms(median(fakeDirect)), ms(Math.max(...fakeDirect))],
        ['added by us', '', ms(median(confirmToReady) - median(fakeDirect)), ''],
      ],
    );
    const note = `Offering the tool adds ${ms(offeredCost)} ms p50 to a turn's first token over the same turn on a route without it (the session's generations read for the note).`;
    return { markdown: `${offerMd}\n\n${note}\n\n${toolMd}\n\n${readyMd}` };
  } finally {
    agent.destroy();
    await server.stop();
    await upstream.stop();
  }
}
