// Turns a browser's raw upload into a ready image: size checked from metadata before a byte
// is read, content verified and normalized, derivative stored, raw upload removed. A refused
// upload leaves nothing behind (raw object and pending item are both deleted), and completing
// the same image again answers the same metadata.
import { ImageRejectedError, imageTooLarge } from '../images/errors';
import { type ImageLimits, type NormalizedImage, normalizeImage } from '../images/normalize';
import type { Logger } from '../observability/log';
import { imageNotFound, invalidImageId } from '../sessions/errors';
import { isImageId } from '../sessions/ids';
import type { ImageObjects } from '../sessions/image-objects';
import type { SessionStore } from '../sessions/store';
import { isReadyImage } from '../sessions/types';
import { imageNotUploadable, uploadNotFound } from './errors';
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

  // Already done: the same answer as the first time.
  if (isReadyImage(image)) return imageResult(image);
  if (image.status === 'duplicate') {
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
  const read = await objects.read(rawKey, deps.maxUploadBytes);
  if (read.kind === 'missing') throw uploadNotFound();
  if (read.kind === 'too_large') {
    await discard();
    throw imageTooLarge(read.bytes, deps.maxUploadBytes);
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
  // The bucket's lifecycle rule removes raw uploads within a day should this fail.
  await objects
    .delete(rawKey)
    .catch((err: unknown) => log.warn('could not remove a raw upload', { key: rawKey, error: err }));
  return result;
}
