// Turns a decoder's complaint into the one rejection a user can act on. libvips messages are
// not a stable API, so the container's own structure decides "truncated" wherever it can.
import { ImageRejectedError } from './errors';
import type { ImageFormat } from './sniff';

const FORMAT_NAMES: Record<ImageFormat, string> = {
  jpeg: 'JPEG',
  png: 'PNG',
  webp: 'WebP',
  gif: 'GIF',
  avif: 'AVIF',
  heic: 'HEIC',
  heif: 'HEIF',
};

export function formatName(format: ImageFormat): string {
  return FORMAT_NAMES[format];
}

const PIXEL_LIMIT_MESSAGE = /exceeds pixel limit/i;
const END_OF_DATA_MESSAGE =
  /premature end|unexpected end|end of (file|stream|data)|truncated|out of data|bad seek|outside of file bounds/i;

function endsWith(bytes: Uint8Array, tail: readonly number[]): boolean {
  if (bytes.length < tail.length) return false;
  return tail.every((b, i) => bytes[bytes.length - tail.length + i] === b);
}

/** Whether the container itself shows the file stops before its declared end. */
function containerLooksCut(bytes: Uint8Array, format: ImageFormat): boolean {
  switch (format) {
    case 'jpeg':
      // End Of Image marker. Only consulted after a decode failure, so trailing junk that some
      // cameras append cannot cause a false rejection on its own.
      return !endsWith(bytes, [0xff, 0xd9]);
    case 'png':
      // IEND chunk: "IEND" followed by its fixed CRC.
      return !endsWith(bytes, [0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
    case 'gif':
      return !endsWith(bytes, [0x3b]); // trailer byte
    case 'webp': {
      if (bytes.length < 8) return true;
      const riffPayload = (bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16) | (bytes[7]! << 24)) >>> 0;
      return bytes.length < riffPayload + 8;
    }
    case 'avif':
    case 'heic':
    case 'heif':
      return false; // box walking is left to the decoder; its message is checked instead
    default: {
      const unreachable: never = format;
      return unreachable;
    }
  }
}

/** The rejection for a decode failure of bytes that sniffed as `format`. */
export function rejectionForDecodeFailure(
  err: unknown,
  bytes: Uint8Array,
  format: ImageFormat,
  maxInputPixels: number,
): ImageRejectedError {
  const detail = err instanceof Error ? err.message : String(err);
  const name = formatName(format);
  if (PIXEL_LIMIT_MESSAGE.test(detail)) {
    return new ImageRejectedError(
      'image_too_many_pixels',
      `The ${name} image has more than ${(maxInputPixels / 1e6).toFixed(0)} megapixels, the most this server decodes. Resize it before sending.`,
      { cause: err },
    );
  }
  if (END_OF_DATA_MESSAGE.test(detail) || containerLooksCut(bytes, format)) {
    return new ImageRejectedError(
      'image_truncated',
      `The ${name} image is incomplete: the data ends before the image does (an interrupted upload or download?). Send the whole file.`,
      { cause: err },
    );
  }
  return new ImageRejectedError(
    'image_decode_failed',
    `The file looks like a ${name} image but could not be decoded; it is probably corrupt.`,
    { cause: err },
  );
}
