// Tells what an upload really is from its first bytes. File names and declared content types
// come from the client and are never trusted; only these signatures decide.

/** Raster formats this server can read (HEIC only where the sharp build can decode HEVC). */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'avif' | 'heic' | 'heif';

/** Image formats we recognise only to say precisely why they are refused. */
export type UnsupportedImageFormat = 'tiff' | 'bmp' | 'ico' | 'psd' | 'jpeg2000' | 'jpegxl' | 'pdf';

/** How far into a text file we look for an SVG root element (prologs and comments come first). */
const SVG_SNIFF_WINDOW = 4096;

// "BM" alone would match ordinary text, so a BMP must also carry a known DIB header size.
const BMP_DIB_HEADER_SIZES = new Set([12, 40, 52, 56, 64, 108, 124]);

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;

// ISO-BMFF brands (the `ftyp` box) that name the codec of a HEIF container.
const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs']);
const HEIF_GENERIC_BRANDS = new Set(['mif1', 'msf1', 'mif2', 'miaf']);

function startsWith(bytes: Uint8Array, signature: readonly number[], at = 0): boolean {
  if (bytes.length < at + signature.length) return false;
  return signature.every((b, i) => bytes[at + i] === b);
}

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, end));
}

/**
 * Reads the brands of an ISO-BMFF `ftyp` box: the major brand first, then the compatible
 * ones. Returns null when the bytes do not start with a well-formed `ftyp` box.
 */
function ftypBrands(bytes: Uint8Array): string[] | null {
  if (bytes.length < 16 || ascii(bytes, 4, 8) !== 'ftyp') return null;
  const declared = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  if (declared < 16 || declared % 4 !== 0) return null;
  const end = Math.min(declared, bytes.length);
  const brands = [ascii(bytes, 8, 12)];
  // Bytes 12..16 are the minor version, not a brand.
  for (let at = 16; at + 4 <= end; at += 4) brands.push(ascii(bytes, at, at + 4));
  return brands;
}

function heifFamily(bytes: Uint8Array): 'avif' | 'heic' | 'heif' | null {
  const brands = ftypBrands(bytes);
  if (!brands) return null;
  // The major brand wins; a generic major brand (mif1) defers to the compatible list.
  const major = brands[0]!;
  if (AVIF_BRANDS.has(major)) return 'avif';
  if (HEIC_BRANDS.has(major)) return 'heic';
  if (brands.some((b) => AVIF_BRANDS.has(b))) return 'avif';
  if (brands.some((b) => HEIC_BRANDS.has(b))) return 'heic';
  if (brands.some((b) => HEIF_GENERIC_BRANDS.has(b))) return 'heif';
  return null; // e.g. an MP4 or QuickTime video
}

/** The image format the bytes are encoded in, by magic bytes only; null if none we accept. */
export function detectImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, PNG_SIGNATURE)) return 'png';
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'webp';
  if (bytes.length >= 6 && (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a')) return 'gif';
  return heifFamily(bytes);
}

/** Recognises image formats we refuse, so the refusal can name them. */
export function detectUnsupportedImageFormat(bytes: Uint8Array): UnsupportedImageFormat | null {
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a]))
    return 'tiff';
  if (startsWith(bytes, [0x42, 0x4d]) && BMP_DIB_HEADER_SIZES.has(bytes[14] ?? -1) && bytes[15] === 0)
    return 'bmp';
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00]) && bytes.length >= 22) return 'ico';
  if (startsWith(bytes, [0x38, 0x42, 0x50, 0x53])) return 'psd';
  if (
    startsWith(bytes, [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20]) ||
    startsWith(bytes, [0xff, 0x4f, 0xff, 0x51])
  )
    return 'jpeg2000';
  if (startsWith(bytes, [0xff, 0x0a]) || startsWith(bytes, [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20]))
    return 'jpegxl';
  if (startsWith(bytes, [0x25, 0x50, 0x44, 0x46, 0x2d])) return 'pdf';
  return null;
}

/** Decodes the start of a text file, honouring a UTF-8 or UTF-16 byte order mark. */
function leadingText(bytes: Uint8Array): string {
  const head = bytes.subarray(0, SVG_SNIFF_WINDOW);
  if (startsWith(head, [0xef, 0xbb, 0xbf])) return new TextDecoder('utf-8').decode(head.subarray(3));
  if (startsWith(head, [0xff, 0xfe])) return new TextDecoder('utf-16le').decode(head.subarray(2));
  if (startsWith(head, [0xfe, 0xff])) return new TextDecoder('utf-16be').decode(head.subarray(2));
  return new TextDecoder('utf-8').decode(head);
}

/**
 * True for SVG and other XML documents. SVG is refused outright (it can carry scripts and
 * external references, and rendering it is a server-side attack surface), and saying so
 * precisely beats a vague "not an image".
 */
export function looksLikeSvgOrXml(bytes: Uint8Array): boolean {
  const text = leadingText(bytes).trimStart();
  if (!text.startsWith('<')) return false;
  if (/^<\?xml[\s?]/i.test(text)) return true;
  return /<svg[\s>/]/i.test(text);
}
