import {
  detectImageFormat,
  detectUnsupportedImageFormat,
  looksLikeSvgOrXml,
} from '../../../shared/images/sniff';
import { type EncodableFormat, ftypFile, solidImage } from '../../fixtures/images/make-images';

describe('detectImageFormat', () => {
  test.each<EncodableFormat>(['jpeg', 'png', 'webp', 'gif', 'avif'])(
    'recognises a real %s made by sharp',
    async (format) => {
      expect(detectImageFormat(await solidImage(format))).toBe(format);
    },
  );

  test.each([
    ['heic', ['mif1', 'heic'], 'heic'],
    ['mif1', ['mif1', 'heic'], 'heic'],
    ['heix', [], 'heic'],
    ['mif1', ['mif1', 'avif'], 'avif'],
    ['avis', ['avis', 'msf1'], 'avif'],
    ['mif1', ['mif1', 'miaf'], 'heif'],
  ] as const)('reads the ftyp brands (major %s, compatible %j) as %s', (major, compatible, expected) => {
    expect(detectImageFormat(ftypFile(major, [...compatible]))).toBe(expected);
  });

  test('an MP4 video (ftyp isom) is not an image', () => {
    expect(detectImageFormat(ftypFile('isom', ['isom', 'mp41']))).toBeNull();
  });

  test('text, even in a file named photo.jpg, is not an image', () => {
    expect(detectImageFormat(Buffer.from('this is definitely a photo, trust me'))).toBeNull();
  });

  test('empty and too-short inputs are not images', () => {
    expect(detectImageFormat(new Uint8Array())).toBeNull();
    expect(detectImageFormat(Uint8Array.from([0xff, 0xd8]))).toBeNull();
    expect(detectImageFormat(Buffer.from('RIFF\0\0\0\0WAVE'))).toBeNull();
  });
});

describe('detectUnsupportedImageFormat', () => {
  test('names TIFF, PDF and BMP so their refusal can be precise', async () => {
    const sharp = (await import('sharp')).default;
    const tiff = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } })
      .tiff()
      .toBuffer();
    expect(detectUnsupportedImageFormat(tiff)).toBe('tiff');
    expect(detectUnsupportedImageFormat(Buffer.from('%PDF-1.7\n'))).toBe('pdf');
    const bmp = Buffer.alloc(54);
    bmp.write('BM', 0, 'latin1');
    bmp.writeUInt32LE(40, 14);
    expect(detectUnsupportedImageFormat(bmp)).toBe('bmp');
  });

  test('text starting with "BM" is not mistaken for a bitmap', () => {
    expect(
      detectUnsupportedImageFormat(Buffer.from('BMW drivers rarely use indicators, a study finds')),
    ).toBeNull();
  });
});

describe('looksLikeSvgOrXml', () => {
  test.each([
    ['plain svg', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'],
    ['xml prolog', '<?xml version="1.0"?><svg/>'],
    [
      'doctype and comment first',
      '<!-- made by hand -->\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x">\n<svg>',
    ],
    ['leading whitespace and BOM', '\ufeff  \n<svg width="10">'],
    ['upper case', '<SVG></SVG>'],
    ['generic xml', '<?xml version="1.0"?><note/>'],
  ])('%s', (_name, text) => {
    expect(looksLikeSvgOrXml(Buffer.from(text, 'utf8'))).toBe(true);
  });

  test('UTF-16 encoded SVG', () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<svg onload="x()">', 'utf16le')]);
    expect(looksLikeSvgOrXml(utf16)).toBe(true);
  });

  test.each([
    ['html', '<html><body>hi</body></html>'],
    ['plain text', 'svg is a vector format'],
    ['json', '{"svg": "<svg>"}'],
  ])('%s is not SVG', (_name, text) => {
    expect(looksLikeSvgOrXml(Buffer.from(text))).toBe(false);
  });

  test('a real PNG is not SVG', async () => {
    expect(looksLikeSvgOrXml(await solidImage('png'))).toBe(false);
  });
});
