// Where a session's bytes live in the bucket: raw browser uploads under uploads/ (expire within
// a day), normalized images under images/<sessionId>/ (live as long as their session).
import { BUCKET_PREFIXES } from '../storage/schema';

export function rawUploadKey(sessionId: string, imageId: string): string {
  return `${BUCKET_PREFIXES.uploads}${sessionId}/${imageId}`;
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

export function sessionObjectPrefixes(sessionId: string): string[] {
  return [`${BUCKET_PREFIXES.uploads}${sessionId}/`, `${BUCKET_PREFIXES.images}${sessionId}/`];
}
