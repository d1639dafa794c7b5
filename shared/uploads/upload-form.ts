// The presigned S3 POST a browser uploads one raw image with: a fixed key, the declared image
// content type and exactly the declared size, signed for a few minutes. S3 enforces the policy
// (so does the local emulator's front, infra/local/s3-front.ts); completion checks the size
// again before reading, whatever let the object in.
import type { S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';

/** What a browser may declare; the bytes are sniffed at completion whatever it declares. */
export const UPLOAD_CONTENT_TYPES = [
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/gif',
  'image/avif',
  'image/heic',
  'image/heif',
] as const;

export type UploadContentType = (typeof UPLOAD_CONTENT_TYPES)[number];

export function isUploadContentType(value: string): value is UploadContentType {
  return (UPLOAD_CONTENT_TYPES as readonly string[]).includes(value);
}

/** Long enough for a phone photo on a slow connection, short enough that a leaked form dies fast. */
export const UPLOAD_FORM_TTL_SECONDS = 300;

export interface UploadForm {
  /** Where the browser POSTs a multipart/form-data body: these fields first, then `file`. */
  url: string;
  fields: Record<string, string>;
  expiresAt: number;
}

export async function createUploadForm(
  s3: S3Client,
  input: { bucket: string; key: string; contentType: UploadContentType; bytes: number; now: number },
): Promise<UploadForm> {
  const { url, fields } = await createPresignedPost(s3, {
    Bucket: input.bucket,
    Key: input.key,
    Conditions: [
      // Exactly the declared size: a form cannot carry more (or other) bytes than it was issued for.
      ['content-length-range', input.bytes, input.bytes],
      ['eq', '$Content-Type', input.contentType],
    ],
    Fields: { 'Content-Type': input.contentType },
    Expires: UPLOAD_FORM_TTL_SECONDS,
  });
  return { url, fields, expiresAt: input.now + UPLOAD_FORM_TTL_SECONDS * 1000 };
}
