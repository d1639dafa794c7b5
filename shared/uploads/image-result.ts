// The answer to every call that makes an image ready: the image's metadata, and when its bytes
// were already in the session, which id they were folded in from.
import type { ReadyImage } from '../sessions/types';

export interface ImageResult {
  imageId: string;
  status: 'ready';
  width: number;
  height: number;
  bytes: number;
  sourceBytes: number;
  mime: string;
  slot: string | null;
  /** Present when these bytes were already in the session: the id that was asked for, now an alias of `imageId`. */
  deduplicatedFrom?: string;
}

export function imageResult(image: ReadyImage, deduplicatedFrom?: string): ImageResult {
  return {
    imageId: image.imageId,
    status: 'ready',
    width: image.width,
    height: image.height,
    bytes: image.bytes,
    sourceBytes: image.sourceBytes,
    mime: image.mime,
    slot: image.slot ?? null,
    ...(deduplicatedFrom !== undefined ? { deduplicatedFrom } : {}),
  };
}
