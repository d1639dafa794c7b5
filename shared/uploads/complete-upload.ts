// Turns a browser's raw upload into a ready image: size checked from metadata (the cap, and
// exactly the declared size) before a byte is read, content verified and normalized, derivative
// stored, raw upload removed. A refused
// upload leaves nothing behind (raw object and pending item are both deleted), and completing
// the same image again answers the same metadata.
import { ImageRejectedError, imageTooLarge } from '../images/errors';
import { type ImageLimits, type NormalizedImage, normalizeImage } from '../images/normalize';
import type { Logger } from '../observability/log';
import { imageNotFound, invalidImageId } from '../sessions/errors';
import { isImageId } from '../sessions/ids';
import type { ImageObjects } from '../sessions/image-objects';
import { rawUploadKey } from '../sessions/object-keys';
import type { SessionStore } from '../sessions/store';
import { isReadyImage } from '../sessions/types';
import { imageNotUploadable, uploadNotFound, uploadSizeMismatch } from './errors';
import { type ImageResult, imageResult } from './image-result';
import { ingestNormalizedImage } from './ingest';

export interface CompleteUploadDeps {
  store: SessionStore;
  objects: ImageObjects;
  log: Logger;
  maxUploadBytes: number;
  imageLimits: ImageLimits;
}

export async function completeUpload(
  deps: CompleteUploadDeps,
  sessionId: string,
  imageId: string,
): Promise<ImageResult> {
  const { store, objects, log } = deps;
  if (!isImageId(imageId)) throw invalidImageId();
  const image = await store.getImage(sessionId, imageId);
  if (!image) throw imageNotFound();

  // Already done: the same answer as the first time, and the raw key is never read again. Its
  // form may still be alive, so whatever a later POST left there is removed (the bucket's
  // lifecycle rule removes it otherwise).
  if (image.status !== 'pending') {
    if (image.source === 'upload') await removeLateUpload(deps, rawUploadKey(sessionId, imageId));
    if (isReadyImage(image)) return imageResult(image);
    const original = image.duplicateOf ? await store.getImage(sessionId, image.duplicateOf) : undefined;
    if (original && isReadyImage(original)) return imageResult(original, imageId);
    throw imageNotFound();
  }
  if (image.source !== 'upload' || !image.rawKey) throw imageNotUploadable();
  const rawKey = image.rawKey;

  const discard = async () => {
    await objects.delete(rawKey);
    await store.deletePendingImage(sessionId, imageId);
  };

  const size = await objects.size(rawKey);
  if (size === undefined) throw uploadNotFound();
  if (size > deps.maxUploadBytes) {
    await discard();
    throw imageTooLarge(size, deps.maxUploadBytes);
  }
  // S3 refuses any other size already; this holds whatever let the object in. (Images whose
  // form predates declared sizes have none to compare.)
  if (image.declaredBytes !== undefined && size !== image.declaredBytes) {
    await discard();
    throw uploadSizeMismatch(image.declaredBytes, size);
  }
  const read = await objects.read(rawKey, deps.maxUploadBytes);
  if (read.kind === 'missing') throw uploadNotFound();
  if (read.kind === 'too_large') {
    await discard();
    throw imageTooLarge(read.bytes, deps.maxUploadBytes);
  }
  // The object may have been replaced between the HEAD and the GET.
  if (image.declaredBytes !== undefined && read.bytes.length !== image.declaredBytes) {
    await discard();
    throw uploadSizeMismatch(image.declaredBytes, read.bytes.length);
  }

  let normalized: NormalizedImage;
  try {
    normalized = await normalizeImage(read.bytes, deps.imageLimits);
  } catch (err) {
    // Refused content is gone for good; anything else (our failure) keeps the upload for a retry.
    if (err instanceof ImageRejectedError) await discard();
    throw err;
  }

  const result = await ingestNormalizedImage(
    { store, objects, log },
    {
      sessionId,
      imageId,
      normalized,
      onDuplicate: 'alias',
      ...(image.slot !== undefined ? { slot: image.slot } : {}),
    },
  );
  await removeLateUpload(deps, rawKey);
  return result;
}

/** Best effort: the bucket's lifecycle rule removes raw uploads within a day should this fail. */
async function removeLateUpload(deps: CompleteUploadDeps, key: string): Promise<void> {
  await deps.objects
    .delete(key)
    .catch((err: unknown) => deps.log.warn('could not remove a raw upload', { key, error: err }));
}
