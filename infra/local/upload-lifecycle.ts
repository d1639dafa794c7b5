// The bucket lifecycle rule that expires raw uploads (infra/constructs/storage.ts), applied to
// the local S3 emulator, which has no lifecycle of its own: `make dev` sweeps at start and then
// periodically, with the same number of days the stack uses.
import { DeleteObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { BUCKET_PREFIXES, RAW_UPLOAD_EXPIRY_DAYS } from '../../shared/storage/schema';

const DAY_MS = 24 * 3600 * 1000;

/**
 * When S3 expires an object under a rule of `days`: its creation time plus the days, rounded up
 * to the next midnight UTC (S3's documented rounding).
 */
export function lifecycleExpiresAt(createdAt: number, days: number): number {
  return Math.ceil((createdAt + days * DAY_MS) / DAY_MS) * DAY_MS;
}

/** Deletes the raw uploads that the bucket's lifecycle rule would have expired by `now`; returns their keys. */
export async function sweepExpiredUploads(s3: S3Client, bucket: string, now: number): Promise<string[]> {
  const expired: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: BUCKET_PREFIXES.uploads,
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    for (const o of page.Contents ?? []) {
      const created = o.LastModified?.getTime();
      if (o.Key && created !== undefined && lifecycleExpiresAt(created, RAW_UPLOAD_EXPIRY_DAYS) <= now)
        expired.push(o.Key);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  for (const key of expired) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  return expired;
}
