// Fuzzes the image sniffer and normalizer: any bytes, and real small images truncated or with
// bytes flipped, are a normalized image or a precise 4xx ImageRejectedError, never another throw.
import fc from 'fast-check';
import { ImageRejectedError } from '../../../shared/images/errors';
import { normalizeImage } from '../../../shared/images/normalize';
import {
  detectImageFormat,
  detectUnsupportedImageFormat,
  looksLikeSvgOrXml,
} from '../../../shared/images/sniff';
import { solidImage } from '../../fixtures/images/make-images';
import { fuzz } from './fuzz-settings';

const CODES = new Set([
  'not_an_image',
  'unsupported_image_format',
  'svg_not_allowed',
  'image_truncated',
  'image_too_many_pixels',
  'image_too_large',
  'image_decode_failed',
]);

async function normalizedOrRefused(bytes: Uint8Array): Promise<void> {
  try {
    const image = await normalizeImage(Buffer.from(bytes));
    expect(image.width).toBeGreaterThan(0);
    expect(image.height).toBeGreaterThan(0);
  } catch (err) {
    if (!(err instanceof ImageRejectedError)) throw err;
    expect(CODES.has(err.code)).toBe(true);
    expect(err.status === 400 || err.status === 413).toBe(true);
  }
}

test('the sniffers never throw on any bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 4200 }), (bytes) => {
      detectImageFormat(bytes);
      detectUnsupportedImageFormat(bytes);
      looksLikeSvgOrXml(bytes);
    }),
    fuzz(500),
  );
});

test('any bytes -> a normalized image or a precise 4xx code', async () => {
  await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 256 }), normalizedOrRefused), fuzz(100));
});

let seeds: Buffer[];
beforeAll(async () => {
  seeds = await Promise.all(
    (['jpeg', 'png', 'webp', 'gif', 'avif'] as const).map((f) => solidImage(f, 24, 16)),
  );
});

test('real small images, truncated or with bytes flipped -> normalized or a precise 4xx code', async () => {
  const mutation = fc.record({
    seed: fc.nat(),
    cut: fc.double({ min: 0, max: 1, noNaN: true }),
    flips: fc.array(
      fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), xor: fc.integer({ min: 1, max: 255 }) }),
      {
        maxLength: 6,
      },
    ),
  });
  await fc.assert(
    fc.asyncProperty(mutation, async ({ seed, cut, flips }) => {
      const source = seeds[seed % seeds.length]!;
      const bytes = Buffer.from(source.subarray(0, Math.max(1, Math.round(source.length * cut))));
      for (const f of flips) {
        const i = Math.min(bytes.length - 1, Math.floor(f.at * bytes.length));
        bytes[i] = bytes[i]! ^ f.xor;
      }
      await normalizedOrRefused(bytes);
    }),
    fuzz(120),
  );
});
