// The echo image provider: a real PNG drawn locally from the prompt (its colour derived from the
// prompt, its size the catalog's), and edits that tint the source image, with no provider key.
import sharp from 'sharp';
import { DEFAULT_IMAGE_CATALOG } from '../../../shared/imagegen/catalog';
import { createEchoImageProvider, echoColour, echoSvg } from '../../../shared/imagegen/providers/echo';
import type { ImageRequest } from '../../../shared/imagegen/types';

const echo = createEchoImageProvider({ name: 'echo', kind: 'echo' });
const entry = DEFAULT_IMAGE_CATALOG.find((e) => e.id === 'echo:echo-image:medium')!;
const draw = (request: ImageRequest) =>
  echo.generate({ entry, request, signal: new AbortController().signal });

test('draws a real PNG at the catalog size for the aspect, filled with the prompt colour', async () => {
  const image = await draw({ prompt: 'a sunset over Paris', quality: 'medium', aspect: 'landscape' });
  expect(image.mimeType).toBe('image/png');
  const meta = await sharp(image.bytes).metadata();
  expect([meta.format, meta.width, meta.height]).toEqual(['png', 768, 512]);
  const { data } = await sharp(image.bytes)
    .extract({ left: 2, top: 2, width: 1, height: 1 })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { r, g, b } = echoColour('a sunset over Paris');
  expect([data[0], data[1], data[2]]).toEqual([r, g, b]);
});

test('the colour is a function of the prompt: same prompt same colour, another prompt another', () => {
  expect(echoColour('a red fox')).toEqual(echoColour('a red fox'));
  expect(echoColour('a red fox').hex).not.toBe(echoColour('a blue whale').hex);
});

test('the prompt is written on the card, escaped (no markup from the prompt reaches the SVG)', () => {
  const svg = echoSvg('cats <script> & "dogs"', 512, 512);
  expect(svg).toContain('cats &#60;script&#62; &#38; &#34;dogs&#34;');
  expect(svg).not.toContain('<script>');
});

test('an edit keeps the source picture and its size, tinted with the prompt colour', async () => {
  const source = await sharp({ create: { width: 90, height: 60, channels: 3, background: '#808080' } })
    .png()
    .toBuffer();
  const image = await draw({
    prompt: 'make it blue',
    quality: 'medium',
    aspect: 'square',
    source: { bytes: source, mimeType: 'image/png' },
  });
  const meta = await sharp(image.bytes).metadata();
  expect([meta.format, meta.width, meta.height]).toEqual(['png', 90, 60]);
  expect(Buffer.from(image.bytes).equals(source)).toBe(false);
});
