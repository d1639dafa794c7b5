// Objects that land under uploads/ when no upload is waiting for them (a form posted again after
// its image completed, a refused or deleted image, a gone session, a key we never issued): found
// from S3's ObjectCreated notification and removed on arrival, so unchecked bytes never sit in
// the bucket. The decision is pure (rawUploadFate); the lookups and the delete are the I/O.
import type { Logger } from '../observability/log';
import type { ImageObjects } from '../sessions/image-objects';
import { parseRawUploadKey } from '../sessions/object-keys';
import type { SessionLookup, SessionStore } from '../sessions/store';
import type { SessionImage } from '../sessions/types';

/** What the store says about the owner of a raw upload key. */
export type RawUploadOwner =
  | { key: 'foreign' }
  | {
      key: 'upload';
      session: SessionLookup['state'];
      image: Pick<SessionImage, 'status' | 'source'> | undefined;
    };

export type RawUploadRemovalReason =
  | 'not_an_upload_key'
  | 'session_gone'
  | 'session_expired'
  | 'image_gone'
  | 'not_an_upload'
  | 'image_completed';

export type RawUploadFate = { keep: true } | { keep: false; reason: RawUploadRemovalReason };

/**
 * Keep only what `complete` may still read: the raw key of a pending upload image of a live
 * session. Once an image is ready or a duplicate, its raw key is never read again; once it is
 * refused or deleted, or its session is gone or expired, `complete` can no longer run for it.
 */
export function rawUploadFate(owner: RawUploadOwner): RawUploadFate {
  if (owner.key === 'foreign') return { keep: false, reason: 'not_an_upload_key' };
  if (owner.session === 'missing') return { keep: false, reason: 'session_gone' };
  if (owner.session === 'expired') return { keep: false, reason: 'session_expired' };
  if (!owner.image) return { keep: false, reason: 'image_gone' };
  if (owner.image.source !== 'upload') return { keep: false, reason: 'not_an_upload' };
  if (owner.image.status === 'pending') return { keep: true };
  return { keep: false, reason: 'image_completed' };
}

/**
 * The part of an S3 event notification record this reads (the AWS-documented shape; the Lambda
 * entry's S3Event satisfies it). Keys arrive URL-encoded, spaces as "+".
 */
export interface ObjectCreatedRecord {
  eventName: string;
  s3: { bucket: { name: string }; object: { key: string; size?: number } };
}

export interface LateUploadDeps {
  store: Pick<SessionStore, 'lookupSession' | 'getImage'>;
  objects: Pick<ImageObjects, 'bucket' | 'delete'>;
  log: Logger;
}

export interface LateUploadOutcome {
  removed: string[];
  kept: string[];
  /** Keys that could not be checked or removed (logged at warn; the lifecycle rule is the backstop). */
  failed: string[];
  /** Records not about this bucket's objects (logged at warn; retrying would not change them). */
  ignored: string[];
}

/** The object key S3 put in a notification, decoded; undefined when it is not valid URL encoding. */
export function notificationKey(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * Checks each created object under uploads/ and removes the ones no pending upload is waiting
 * for. Idempotent (S3 may deliver a notification more than once; deleting twice is harmless),
 * and a missing item or object is an answer, not an error.
 */
export async function removeLateUploads(
  deps: LateUploadDeps,
  records: readonly ObjectCreatedRecord[],
): Promise<LateUploadOutcome> {
  const outcome: LateUploadOutcome = { removed: [], kept: [], failed: [], ignored: [] };
  for (const record of records) {
    if (!record.eventName.startsWith('ObjectCreated:')) continue;
    const key = notificationKey(record.s3.object.key);
    if (record.s3.bucket.name !== deps.objects.bucket || key === undefined) {
      // Not a notification this function was wired for: a configuration mistake, not an upload.
      deps.log.warn('object notification ignored: not for a key of the images bucket', {
        bucket: record.s3.bucket.name,
        key: record.s3.object.key,
      });
      outcome.ignored.push(record.s3.object.key);
      continue;
    }
    try {
      const fate = rawUploadFate(await ownerOf(deps, key));
      if (fate.keep) {
        outcome.kept.push(key);
        continue;
      }
      await deps.objects.delete(key);
      deps.log.info('late raw upload removed on arrival', {
        key,
        reason: fate.reason,
        bytes: record.s3.object.size,
      });
      outcome.removed.push(key);
    } catch (err) {
      deps.log.warn(
        'could not check or remove a raw upload; the bucket lifecycle rule removes it within a day',
        {
          key,
          error: err,
        },
      );
      outcome.failed.push(key);
    }
  }
  return outcome;
}

async function ownerOf(deps: LateUploadDeps, key: string): Promise<RawUploadOwner> {
  const ids = parseRawUploadKey(key);
  if (!ids) return { key: 'foreign' };
  const found = await deps.store.lookupSession(ids.sessionId);
  if (found.state !== 'active') return { key: 'upload', session: found.state, image: undefined };
  return { key: 'upload', session: 'active', image: await deps.store.getImage(ids.sessionId, ids.imageId) };
}
