// An ImageGenerator for tests until the real runner lands: it makes a real PNG with sharp (a
// colour from the prompt, the aspect's size), so the job stores, normalizes and serves it exactly
// as it would a provider's image. Its candidates and failures are programmable, and it counts
// calls so tests can tell one generation (and one charge) from two.
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { UpstreamError } from '../../shared/errors';
import type {
  CatalogEntry,
  GenerationResult,
  ImageGenerator,
  ImageRequest,
} from '../../shared/imagegen/types';

export function catalogEntry(overrides: Partial<CatalogEntry> & { id: string }): CatalogEntry {
  return {
    provider: overrides.id.split(':')[0] ?? 'fake',
    model: overrides.id.split(':')[1] ?? 'fake-image',
    quality: 'medium',
    sizes: { square: '64x64', landscape: '96x64', portrait: '64x96' },
    priceUsd: 0.01,
    priceSource: 'test 2026-12-03',
    priority: 1,
    edits: true,
    enabled: true,
    ...overrides,
  };
}

export type PngBehaviour =
  | 'ok'
  | 'fail'
  | 'refuse'
  /** Waits for the signal (the job's timeout). */
  | 'hang'
  /** Returns bytes that are not an image. */
  | 'garbage';

export interface PngGenerator extends ImageGenerator {
  entries: CatalogEntry[];
  calls: { request: ImageRequest; entries: CatalogEntry[] }[];
  /** Behaviours for the next calls, first in first out; 'ok' when empty. */
  script: PngBehaviour[];
  /** Resolves the next time generate() is called. */
  nextCall(): Promise<void>;
}

class ImageRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageRefusedError';
  }
}

export async function pngFromPrompt(prompt: string, width: number, height: number): Promise<Buffer> {
  const [r, g, b] = createHash('sha256').update(prompt).digest();
  return sharp({ create: { width, height, channels: 3, background: { r: r!, g: g!, b: b! } } })
    .png()
    .toBuffer();
}

export function createPngGenerator(entries: CatalogEntry[]): PngGenerator {
  let waiters: (() => void)[] = [];
  const gen: PngGenerator = {
    entries,
    calls: [],
    script: [],
    nextCall: () => new Promise<void>((resolve) => waiters.push(resolve)),
    async candidates(request) {
      return gen.entries.filter(
        (e) => e.enabled && e.quality === request.quality && (!request.source || e.edits),
      );
    },
    async generate(request, chosen, signal): Promise<GenerationResult> {
      gen.calls.push({ request, entries: chosen });
      const w = waiters;
      waiters = [];
      for (const resolve of w) resolve();
      const entry = chosen[0];
      if (!entry) throw new Error('no entries');
      const behaviour = gen.script.shift() ?? 'ok';
      if (behaviour === 'fail')
        throw new UpstreamError('fake image provider answered 500', {
          errorClass: 'http_5xx',
          upstreamStatus: 500,
        });
      if (behaviour === 'refuse')
        throw new ImageRefusedError('The provider refused this prompt (content policy).');
      if (behaviour === 'hang')
        await new Promise<never>((_, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
        );
      const [width, height] = entry.sizes[request.aspect].split('x').map(Number) as [number, number];
      const bytes =
        behaviour === 'garbage'
          ? Buffer.from('definitely not an image')
          : await pngFromPrompt(`${request.prompt}|${request.source ? 'edit' : 'new'}`, width, height);
      return {
        image: { bytes, mimeType: 'image/png' },
        entry,
        costUsd: entry.priceUsd,
        attempts: [{ entryId: entry.id, ok: true, ms: 1 }],
        fallbackUsed: false,
      };
    },
  };
  return gen;
}
