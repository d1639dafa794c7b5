// Image benchmarks: a 12-megapixel camera JPEG through normalization and through the complete
// endpoint; bytes and estimated tokens per turn before and after; and time to first token of a
// chat turn with 0, 1 and 4 session images versus no session at all, in the same run.
import sharp from 'sharp';
import { normalizeImage } from '../shared/images/normalize';
import { estimateImageTokens } from '../shared/images/tokens';
import { cameraPhoto } from '../test/helpers/camera-photo';
import { createBrowserSession, uploadThroughS3 } from '../test/helpers/dev-server';
import { bundleScript, spawnTs } from './lib/processes';
import { agent, isOpenAIToken, runConcurrent, type StreamTiming, timedStream } from './lib/sse-client';
import { median, ms, percentile, ratio, table } from './lib/stats';

const ORIGIN = 'http://bench.local';

async function timeIt(fn: () => Promise<unknown>, runs: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

export async function benchImages(opts: {
  quick: boolean;
}): Promise<{ markdown: string; normalizeMs: number; byteRatio: number; addedP50: number[] }> {
  const runs = opts.quick ? 5 : 12;
  const photo = await cameraPhoto(4032, 3024);
  await normalizeImage(photo); // warm sharp
  const normalize = await timeIt(() => normalizeImage(photo), runs);
  const decode = await timeIt(() => sharp(photo).raw().toBuffer(), runs);
  const normalized = await normalizeImage(photo);

  const upstream = await spawnTs<{ openai: string }>(
    'bench/upstream-process.ts',
    { TOKENS: '20', TOKEN_DELAY_MS: '10' },
    'openai',
  );
  const script = await bundleScript('bench/server-process.ts', '.build/bench-server.mjs');
  const server = await spawnTs<{ url: string }>(
    script,
    {
      WITH_EMULATORS: '1',
      OPENAI_API_KEY: 'sk-bench',
      OPENAI_BASE_URL: `${upstream.info.openai}/v1`,
      ALLOWED_ORIGINS: ORIGIN,
      LOG_LEVEL: 'error',
      RATE_LIMIT_SESSIONS_PER_IP_PER_MINUTE: '100000',
      RATE_LIMIT_UPLOADS_PER_IP_PER_MINUTE: '100000',
      RATE_LIMIT_REQUESTS_PER_IP_PER_MINUTE: '100000',
    },
    'url',
  );
  const base = server.info.url;
  try {
    // The complete endpoint: HEAD + GET the raw upload, normalize, PUT the derivative, two writes.
    const completeTimes: number[] = [];
    for (let i = 0; i < runs; i++) {
      const s = await createBrowserSession(base, ORIGIN);
      // Distinct bytes per run so deduplication never short-cuts the work.
      const bytes = Buffer.concat([photo, Buffer.from(`\n${i}`)]);
      const t0 = performance.now();
      const up = await uploadThroughS3(base, ORIGIN, s, bytes);
      completeTimes.push(performance.now() - t0);
      if (up.status !== 200) throw new Error(`upload failed: ${JSON.stringify(up.body)}`);
    }

    // Sessions with 0, 1 and 4 images, and turns with no session at all (the baseline).
    const sessions: Record<string, string | undefined> = { 'no session': undefined };
    for (const count of [0, 1, 4]) {
      const s = await createBrowserSession(base, ORIGIN);
      for (let i = 0; i < count; i++) {
        const img = await sharp(normalized.bytes)
          .modulate({ hue: 40 * (i + 1) })
          .jpeg()
          .toBuffer();
        const up = await uploadThroughS3(base, ORIGIN, s, img);
        if (up.status !== 200) throw new Error(`upload failed: ${JSON.stringify(up.body)}`);
      }
      sessions[`${count} image${count === 1 ? '' : 's'}`] = s.sessionId;
    }
    const turn = (sessionId: string | undefined) =>
      timedStream(
        `${base}/v1/chat/completions`,
        {
          model: 'gpt-4o',
          stream: true,
          messages: [
            { role: 'system', content: 'You can see.' },
            { role: 'user', content: 'What is this?' },
          ],
          ...(sessionId ? { elevenlabs_extra_body: { session_id: sessionId } } : {}),
        },
        {},
        isOpenAIToken,
      );
    for (const id of Object.values(sessions)) await runConcurrent(20, 4, () => turn(id));
    const n = opts.quick ? 40 : 150;
    const results: Record<string, StreamTiming[]> = {};
    for (const name of Object.keys(sessions)) results[name] = [];
    // Interleave the cases so machine noise hits each alike.
    for (let i = 0; i < n; i++)
      for (const [name, id] of Object.entries(sessions)) results[name]!.push(await turn(id));
    const baseline = percentile(
      results['no session']!.map((r) => r.ttftMs),
      50,
    );

    const tokensRaw = {
      openai: estimateImageTokens(4032, 3024, 'openai'),
      anthropic: estimateImageTokens(4032, 3024, 'anthropic'),
    };
    const tokensNorm = {
      openai: estimateImageTokens(normalized.width, normalized.height, 'openai'),
      anthropic: estimateImageTokens(normalized.width, normalized.height, 'anthropic'),
    };
    const rawB64 = Math.ceil(photo.length / 3) * 4;
    const normB64 = Math.ceil(normalized.bytes.length / 3) * 4;
    const normalizeMd = table(
      ['measure (12 MP camera JPEG, 4032x3024)', 'value'],
      [
        ['normalize (sniff, orient, strip, resize, encode), median', `${ms(median(normalize))} ms`],
        ['full decode of the same JPEG (baseline)', `${ms(median(decode))} ms`],
        ['normalize / full decode', ratio(median(normalize), median(decode))],
        ['presign + S3 POST + complete through the local server, median', `${ms(median(completeTimes))} ms`],
        [
          'bytes per turn: raw upload inline / normalized inline',
          `${(rawB64 / 1024).toFixed(0)} KiB / ${(normB64 / 1024).toFixed(0)} KiB (${(rawB64 / normB64).toFixed(1)}x fewer)`,
        ],
        [
          'normalized size',
          `${normalized.width}x${normalized.height}, ${(normalized.bytes.length / 1024).toFixed(0)} KiB JPEG`,
        ],
        [
          'est. tokens per image, OpenAI high detail: raw / normalized',
          `${tokensRaw.openai} / ${tokensNorm.openai}`,
        ],
        [
          'est. tokens per image, Anthropic: raw / normalized',
          `${tokensRaw.anthropic} / ${tokensNorm.anthropic}`,
        ],
      ],
    );
    const ttftRows = Object.entries(results).map(([name, rs]) => {
      const p50 = percentile(
        rs.map((r) => r.ttftMs),
        50,
      );
      return [
        name,
        rs.length,
        ms(p50),
        ms(
          percentile(
            rs.map((r) => r.ttftMs),
            99,
          ),
        ),
        ms(p50 - baseline),
        ratio(p50, baseline),
      ];
    });
    const ttftMd = table(
      ['turn', 'n', 'TTFT p50 (ms)', 'TTFT p99 (ms)', 'added p50 vs no session (ms)', 'ratio'],
      ttftRows,
    );
    return {
      markdown: `${normalizeMd}\n\n${ttftMd}`,
      normalizeMs: median(normalize),
      byteRatio: rawB64 / normB64,
      addedP50: ttftRows.slice(1).map((r) => Number(r[4])),
    };
  } finally {
    agent.destroy();
    await server.stop();
    await upstream.stop();
  }
}
