// Turns what a provider sent as an image (base64 or downloaded bytes) into a ProviderImage, or a
// clear UpstreamError when it is not one: a provider's garbage must fail over, not be stored.
import type { UpstreamError } from '../errors';
import { detectImageFormat, type ImageFormat } from '../images/sniff';
import { malformedImage } from './generation-errors';
import type { ProviderImage } from './types';

const MIME: Record<ImageFormat, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
  heic: 'image/heic',
  heif: 'image/heif',
};

/**
 * Largest image accepted from a provider (4K PNGs are under 20 MB): a bigger answer is a broken
 * or hostile upstream, and is refused before it is decoded or stored.
 */
export const MAX_PROVIDER_IMAGE_BYTES = 25 * 1024 * 1024;

// Buffer.from(x, 'base64') skips whatever is not base64, so a truncated or garbled answer would
// decode to some bytes silently; the alphabet and padding are checked first.
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The bytes of a provider's image as it sent them, sniffed: the declared type is never trusted. */
export function providerImageFromBytes(
  bytes: Uint8Array,
  provider: string,
  revisedPrompt?: string,
): ProviderImage | UpstreamError {
  if (bytes.length === 0) return malformedImage(provider, 'the image is empty');
  if (bytes.length > MAX_PROVIDER_IMAGE_BYTES)
    return malformedImage(provider, `the image is larger than ${MAX_PROVIDER_IMAGE_BYTES} bytes`);
  const format = detectImageFormat(bytes);
  if (format === null)
    return malformedImage(provider, 'the data is not a PNG, JPEG, WebP, GIF or AVIF image');
  return { bytes, mimeType: MIME[format], ...(revisedPrompt ? { revisedPrompt } : {}) };
}

/** A base64 image (`b64_json`) decoded and sniffed. */
export function providerImageFromBase64(
  b64: unknown,
  provider: string,
  revisedPrompt?: string,
): ProviderImage | UpstreamError {
  if (typeof b64 !== 'string' || b64.length === 0)
    return malformedImage(provider, 'no base64 image in the answer');
  if (b64.length > (MAX_PROVIDER_IMAGE_BYTES / 3) * 4 + 1024)
    return malformedImage(provider, `the image is larger than ${MAX_PROVIDER_IMAGE_BYTES} bytes`);
  const compact = b64.replace(/\s+/g, '');
  if (compact.length % 4 !== 0 || !BASE64.test(compact))
    return malformedImage(provider, 'the image is not valid base64');
  return providerImageFromBytes(Buffer.from(compact, 'base64'), provider, revisedPrompt);
}
