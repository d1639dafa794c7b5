// Where a session's bytes live in the bucket: raw browser uploads under uploads/ (expire within
// a day), normalized images under images/<sessionId>/ (live as long as their session).
import { BUCKET_PREFIXES } from '../storage/schema';
import { isImageId, isSessionId } from './ids';

export function rawUploadKey(sessionId: string, imageId: string): string {
  return `${BUCKET_PREFIXES.uploads}${sessionId}/${imageId}`;
}

/** The session and image a raw upload key belongs to; undefined for anything we never issue a form for. */
export function parseRawUploadKey(key: string): { sessionId: string; imageId: string } | undefined {
  if (!key.startsWith(BUCKET_PREFIXES.uploads)) return undefined;
  const parts = key.slice(BUCKET_PREFIXES.uploads.length).split('/');
  if (parts.length !== 2) return undefined;
  const [sessionId, imageId] = parts as [string, string];
  return isSessionId(sessionId) && isImageId(imageId) ? { sessionId, imageId } : undefined;
}

/** The formats a normalized image may be stored in. */
export const NORMALIZED_MIMES = ['image/jpeg', 'image/webp'] as const;

export function normalizedImageKey(
  sessionId: string,
  imageId: string,
  mime: (typeof NORMALIZED_MIMES)[number],
): string {
  return `${BUCKET_PREFIXES.images}${sessionId}/${imageId}.${mime === 'image/jpeg' ? 'jpg' : 'webp'}`;
}

/** A generated image as its provider made it (PNG, WebP or JPEG), kept beside its normalized copy for display. */
export function originalImageKey(
  sessionId: string,
  imageId: string,
  extension: 'png' | 'webp' | 'jpg',
): string {
  return `${BUCKET_PREFIXES.images}${sessionId}/${imageId}.original.${extension}`;
}

export function sessionObjectPrefixes(sessionId: string): string[] {
  return [`${BUCKET_PREFIXES.uploads}${sessionId}/`, `${BUCKET_PREFIXES.images}${sessionId}/`];
}
