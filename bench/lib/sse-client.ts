// A minimal streaming HTTP client for benchmarks: measures time to the first token event and to
// the end of the stream, and the gaps between token events, with keep-alive connections.
import { Agent, request } from 'node:http';

export const agent = new Agent({ keepAlive: true, maxSockets: 256 });

export interface StreamTiming {
  status: number;
  ttftMs: number;
  totalMs: number;
  tokens: number;
  gapsMs: number[];
}

/**
 * POSTs `body` and reads the SSE response. `isToken` says whether one `data:` payload carries
 * model output (text differs by wire format: OpenAI chunks vs Anthropic events).
 */
export function timedStream(
  url: string,
  body: unknown,
  headers: Record<string, string>,
  isToken: (data: string) => boolean,
): Promise<StreamTiming> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const payload = Buffer.from(JSON.stringify(body));
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': String(payload.length), ...headers },
      },
      (res) => {
        let buf = '';
        let ttft = Number.NaN;
        let last = Number.NaN;
        let tokens = 0;
        const gaps: number[] = [];
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const now = performance.now();
          buf += chunk;
          let idx = buf.indexOf('\n\n');
          while (idx >= 0) {
            const frame = buf.slice(0, idx);
            buf = buf.slice(idx + 2);
            for (const line of frame.split('\n')) {
              if (!line.startsWith('data: ')) continue;
              if (isToken(line.slice(6))) {
                tokens++;
                if (Number.isNaN(ttft)) ttft = now - t0;
                else gaps.push(now - last);
                last = now;
              }
            }
            idx = buf.indexOf('\n\n');
          }
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            ttftMs: ttft,
            totalMs: performance.now() - t0,
            tokens,
            gapsMs: gaps,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export const isOpenAIToken = (d: string): boolean => d.includes('"content":"') && !d.includes('"content":""');
export const isAnthropicToken = (d: string): boolean => d.includes('"text_delta"');

/**
 * Runs `n` calls with `concurrency` in flight at once, back to back: as one call ends, its
 * worker starts the next, so exactly `concurrency` streams are open at every moment.
 * `spreadMs` offsets the workers' first calls evenly over that many milliseconds; streams being
 * equally long, the offsets persist, and arrivals stay spread out as independent conversations'
 * are. With `spreadMs` 0 every worker starts at once and, streams being equally long, they stay
 * in lockstep: a burst of `concurrency` requests in the same millisecond, again and again.
 */
export async function runConcurrent<T>(
  n: number,
  concurrency: number,
  call: (i: number) => Promise<T>,
  spreadMs = 0,
): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  const workers = Math.min(concurrency, n);
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      if (spreadMs > 0) await new Promise((r) => setTimeout(r, (w * spreadMs) / workers));
      while (next < n) {
        const i = next++;
        out[i] = await call(i);
      }
    }),
  );
  return out;
}
