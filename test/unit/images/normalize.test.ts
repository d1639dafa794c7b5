import sharp from 'sharp';
import { ImageRejectedError } from '../../../shared/images/errors';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits, normalizeImage } from '../../../shared/images/normalize';
import {
  animatedGif,
  exifHasGpsIfd,
  ftypFile,
  noisyPng,
  photoLikeJpeg,
  pngClaimingDimensions,
  solidImage,
} from '../../fixtures/images/make-images';

async function rejection(
  input: Buffer,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
): Promise<ImageRejectedError> {
  try {
    await normalizeImage(input, limits);
  } catch (err) {
    if (err instanceof ImageRejectedError) return err;
    throw err;
  }
  throw new Error('expected normalizeImage to reject');
}

describe('normalizeImage refuses what is not a usable image', () => {
  test('a text file named photo.jpg is not_an_image (the name is never consulted)', async () => {
    const err = await rejection(Buffer.from('name: photo.jpg\nthis is a text file\n'));
    expect(err.code).toBe('not_an_image');
    expect(err.status).toBe(400);
  });

  test('an empty upload is not_an_image', async () => {
    expect((await rejection(Buffer.alloc(0))).code).toBe('not_an_image');
  });

  test('an SVG carrying a script is svg_not_allowed, before any renderer sees it', async () => {
    const svg = Buffer.from(
      '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>fetch("http://169.254.169.254/")</script></svg>',
    );
    const err = await rejection(svg);
    expect(err.code).toBe('svg_not_allowed');
    expect(err.message).toMatch(/SVG/);
  });

  test('TIFF is unsupported_image_format and says so by name', async () => {
    const tiff = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } })
      .tiff()
      .toBuffer();
    const err = await rejection(tiff);
    expect(err.code).toBe('unsupported_image_format');
    expect(err.message).toMatch(/TIFF/);
  });

  test('HEIC is unsupported_image_format with advice for iPhone users', async () => {
    const err = await rejection(ftypFile('heic', ['mif1', 'heic']));
    expect(err.code).toBe('unsupported_image_format');
    expect(err.message).toMatch(/HEIC.*Most Compatible/);
  });

  test('a JPEG cut in half is image_truncated', async () => {
    const jpeg = await photoLikeJpeg(800, 600);
    const err = await rejection(jpeg.subarray(0, jpeg.length >> 1));
    expect(err.code).toBe('image_truncated');
    expect(err.message).toMatch(/incomplete/);
  });

  test('a PNG cut in half is image_truncated', async () => {
    const png = await noisyPng(400, 300);
    expect((await rejection(png.subarray(0, png.length >> 1))).code).toBe('image_truncated');
  });

  test('a complete PNG with corrupt pixel data is image_decode_failed, not truncated', async () => {
    const png = await noisyPng(400, 300);
    const corrupt = Buffer.from(png);
    corrupt.fill(7, 200, 5000);
    expect((await rejection(corrupt)).code).toBe('image_decode_failed');
  });

  test('a PNG whose header claims 100000 x 100000 is image_too_many_pixels, quickly and without allocating', async () => {
    const bomb = pngClaimingDimensions(100_000, 100_000);
    expect(bomb.length).toBeLessThan(2048);
    const rssBefore = process.memoryUsage().rss;
    const err = await rejection(bomb);
    expect(err.code).toBe('image_too_many_pixels');
    expect(err.status).toBe(400);
    // Decoding would need 30 GB; refusing from the header needs next to nothing.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
  });

  test('maxInputPixels is honoured for an ordinary image too', async () => {
    const png = await solidImage('png', 200, 100);
    const err = await rejection(png, { ...DEFAULT_IMAGE_LIMITS, maxInputPixels: 19_999 });
    expect(err.code).toBe('image_too_many_pixels');
    await expect(
      normalizeImage(png, { ...DEFAULT_IMAGE_LIMITS, maxInputPixels: 20_000 }),
    ).resolves.toBeDefined();
  });

  test('input over maxInputBytes is image_too_large (413), checked before anything else', async () => {
    const jpeg = await solidImage('jpeg');
    const err = await rejection(jpeg, { ...DEFAULT_IMAGE_LIMITS, maxInputBytes: jpeg.length - 1 });
    expect(err.code).toBe('image_too_large');
    expect(err.status).toBe(413);
    // Not even sniffed: an oversized text file is "too large", not "not an image".
    const text = Buffer.alloc(100, 'a');
    expect((await rejection(text, { ...DEFAULT_IMAGE_LIMITS, maxInputBytes: 99 })).code).toBe(
      'image_too_large',
    );
  });
});

describe('normalizeImage output', () => {
  test('strips all EXIF, including GPS, that the input really had', async () => {
    const withGps = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#08f' } })
      .jpeg()
      .withExif({
        IFD0: { Make: 'TestCam', Model: 'One' },
        IFD3: {
          GPSLatitudeRef: 'N',
          GPSLatitude: '52/1 31/1 0/1',
          GPSLongitudeRef: 'E',
          GPSLongitude: '13/1 24/1 0/1',
        },
      })
      .toBuffer();
    const inputMeta = await sharp(withGps).metadata();
    expect(inputMeta.exif).toBeDefined();
    expect(exifHasGpsIfd(inputMeta.exif!)).toBe(true);

    const out = await normalizeImage(withGps, DEFAULT_IMAGE_LIMITS);
    const outMeta = await sharp(out.bytes).metadata();
    expect(outMeta.exif).toBeUndefined();
    expect(outMeta.xmp).toBeUndefined();
    expect(outMeta.iptc).toBeUndefined();
    expect(outMeta.icc).toBeUndefined();
    expect(out.bytes.includes(Buffer.from('TestCam'))).toBe(false);
  });

  test('converts a Display P3 photo to sRGB and drops the profile', async () => {
    const p3 = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#ff0000' } })
      .withIccProfile('p3')
      .jpeg()
      .toBuffer();
    expect((await sharp(p3).metadata()).hasProfile).toBe(true);
    const out = await normalizeImage(p3, DEFAULT_IMAGE_LIMITS);
    expect((await sharp(out.bytes).metadata()).hasProfile).toBe(false);
  });

  test('applies EXIF orientation 6 (rotate 90°) so the output is upright', async () => {
    const sideways = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#0a0' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect((await sharp(sideways).metadata()).orientation).toBe(6);
    const out = await normalizeImage(sideways, DEFAULT_IMAGE_LIMITS);
    expect([out.width, out.height]).toEqual([100, 200]);
    expect([out.sourceWidth, out.sourceHeight]).toEqual([100, 200]);
    expect((await sharp(out.bytes).metadata()).orientation).toBeUndefined();
  });

  test('a 4000 x 3000 photo fits both the long-edge and the pixel caps', async () => {
    const input = await photoLikeJpeg(4000, 3000);
    const out = await normalizeImage(input, DEFAULT_IMAGE_LIMITS);
    expect(Math.max(out.width, out.height)).toBeLessThanOrEqual(1568);
    expect(out.width * out.height).toBeLessThanOrEqual(1_150_000);
    expect(out.width).toBeGreaterThanOrEqual(1236);
    expect(out.height).toBeGreaterThanOrEqual(926);
    expect(out.width / out.height).toBeCloseTo(4 / 3, 2);
    const real = await sharp(out.bytes).metadata();
    expect([real.width, real.height]).toEqual([out.width, out.height]);
    expect(out).toMatchObject({
      mime: 'image/jpeg',
      sourceFormat: 'jpeg',
      sourceWidth: 4000,
      sourceHeight: 3000,
    });
    expect(out.sourceBytes).toBe(input.length);
    expect(out.bytes.length).toBeLessThan(input.length);
  });

  test('a wide panorama is bounded by the long edge', async () => {
    const out = await normalizeImage(await solidImage('png', 4000, 500), DEFAULT_IMAGE_LIMITS);
    expect(out.width).toBe(1568);
    expect(out.height).toBe(196);
  });

  test('a small image is not enlarged', async () => {
    const out = await normalizeImage(await solidImage('png', 300, 200), DEFAULT_IMAGE_LIMITS);
    expect([out.width, out.height]).toEqual([300, 200]);
  });

  test('an animated GIF becomes its first frame', async () => {
    const gif = await animatedGif();
    expect((await sharp(gif).metadata()).pages).toBeGreaterThan(1);
    const out = await normalizeImage(gif, DEFAULT_IMAGE_LIMITS);
    expect([out.width, out.height]).toEqual([40, 30]);
    expect(out.sourceFormat).toBe('gif');
    const { data } = await sharp(out.bytes).raw().toBuffer({ resolveWithObject: true });
    // First frame is red; the others are blue.
    expect(data[0]).toBeGreaterThan(200);
    expect(data[2]).toBeLessThan(50);
  });

  test('transparent PNG becomes JPEG on white (strokes stay visible)', async () => {
    const transparent = await solidImage('png', 20, 20, 'rgba(0,0,0,0)', 4);
    const out = await normalizeImage(transparent, DEFAULT_IMAGE_LIMITS);
    expect(out.mime).toBe('image/jpeg');
    const { data } = await sharp(out.bytes).raw().toBuffer({ resolveWithObject: true });
    expect(Math.min(data[0]!, data[1]!, data[2]!)).toBeGreaterThan(245);
  });

  test('WebP output keeps transparency', async () => {
    const transparent = await solidImage('png', 20, 20, 'rgba(255,0,0,0.5)', 4);
    const out = await normalizeImage(transparent, { ...DEFAULT_IMAGE_LIMITS, outputFormat: 'webp' });
    expect(out.mime).toBe('image/webp');
    const meta = await sharp(out.bytes).metadata();
    expect(meta.format).toBe('webp');
    expect(meta.hasAlpha).toBe(true);
  });

  test.each(['jpeg', 'png', 'webp', 'gif', 'avif'] as const)('accepts %s input', async (format) => {
    const out = await normalizeImage(await solidImage(format, 50, 40), DEFAULT_IMAGE_LIMITS);
    expect(out.sourceFormat).toBe(format);
    expect([out.width, out.height]).toEqual([50, 40]);
  });

  test('sha256 is the hex digest of the output and is deterministic', async () => {
    const input = await photoLikeJpeg(900, 700);
    const a = await normalizeImage(input, DEFAULT_IMAGE_LIMITS);
    const b = await normalizeImage(Buffer.from(input), DEFAULT_IMAGE_LIMITS);
    expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(b.sha256).toBe(a.sha256);
    expect(b.bytes.equals(a.bytes)).toBe(true);
    const { createHash } = await import('node:crypto');
    expect(createHash('sha256').update(a.bytes).digest('hex')).toBe(a.sha256);
  });
});
