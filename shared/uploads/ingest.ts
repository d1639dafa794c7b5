// The last step every image takes, whichever way it arrived (upload, URL, inline): store the
// normalized bytes and make the pending image ready, or fold it into the identical image the
// session already has. Content is claimed before the S3 write, so a duplicate costs no write.
import type { NormalizedImage } from '../images/normalize';
import type { Logger } from '../observability/log';
import { imageNotFound } from '../sessions/errors';
import { newImageId } from '../sessions/ids';
import type { ImageObjects } from '../sessions/image-objects';
import { normalizedImageKey } from '../sessions/object-keys';
import type { SessionStore } from '../sessions/store';
import type { ImageSource, ReadyImage } from '../sessions/types';
import { imageBusy } from './errors';
import { type ImageResult, imageResult } from './image-result';

export interface IngestDeps {
  store: SessionStore;
  objects: ImageObjects;
  log: Logger;
}

export interface IngestInput {
  sessionId: string;
  imageId: string;
  slot?: string;
  normalized: NormalizedImage;
  /**
   * What happens to the pending image when its bytes are a duplicate. 'alias' keeps it (status
   * 'duplicate'), so repeating the same complete call gives the same answer; 'delete' removes
   * it, for ids the client never saw.
   */
  onDuplicate: 'alias' | 'delete';
}

export async function ingestNormalizedImage(deps: IngestDeps, input: IngestInput): Promise<ImageResult> {
  const { store, objects } = deps;
  const { sessionId, imageId, normalized } = input;

  const foldInto = async (existing: ReadyImage): Promise<ImageResult> => {
    if (input.onDuplicate === 'alias') await store.markImageDuplicate(sessionId, imageId, existing.imageId);
    else await store.deletePendingImage(sessionId, imageId);
    const promoted =
      input.slot !== undefined
        ? await store.promoteImageInSlot(sessionId, existing.imageId, input.slot)
        : undefined;
    return imageResult(promoted ?? existing, imageId);
  };

  const claim = await store.claimImageContent(sessionId, imageId, normalized.sha256);
  if (claim.kind === 'missing') throw imageNotFound();
  if (claim.kind === 'busy') throw imageBusy();
  if (claim.kind === 'duplicate') return foldInto(claim.image);

  const key = normalizedImageKey(sessionId, imageId, normalized.mime);
  try {
    await objects.put(key, normalized.bytes, normalized.mime);
  } catch (err) {
    // Nothing was stored: the content hash goes back, so no claim outlives the attempt.
    await store.releaseContentClaim(sessionId, imageId, normalized.sha256).catch((cleanupErr: unknown) =>
      deps.log.warn('could not release a content claim after a failed write', {
        imageId,
        error: cleanupErr,
      }),
    );
    throw err;
  }
  // If the commit below throws, the object stays: the write may have landed all the same (a lost
  // answer), and deleting it would leave a ready image without bytes. A retried completion
  // rewrites the same key; deleting the session removes it whatever the image's status.
  const outcome = await store.markImageReady({
    sessionId,
    imageId,
    key,
    mime: normalized.mime,
    width: normalized.width,
    height: normalized.height,
    bytes: normalized.bytes.length,
    sourceBytes: normalized.sourceBytes,
    sha256: normalized.sha256,
  });
  switch (outcome.kind) {
    case 'ready':
      return imageResult(outcome.image);
    case 'duplicate':
    case 'busy':
    case 'missing':
      // The claim was lost after all (a takeover, or the session was deleted meanwhile): the
      // object we wrote belongs to nothing.
      await objects
        .delete(key)
        .catch((err: unknown) =>
          deps.log.warn('could not remove an orphaned image object', { key, error: err }),
        );
      if (outcome.kind === 'duplicate') return foldInto(outcome.image);
      if (outcome.kind === 'busy') throw imageBusy();
      throw imageNotFound();
    default: {
      const unreachable: never = outcome;
      return unreachable;
    }
  }
}

export interface NewImageInput {
  sessionId: string;
  /** How it arrived: a fetched URL, an inline data URI, or an image inside a chat message. */
  source: Exclude<ImageSource, 'upload'>;
  slot?: string;
  normalized: NormalizedImage;
}

/**
 * Adds an image that arrived whole (not through an upload form) to a session: a pending item
 * under a new id, then ingestNormalizedImage. Used by the uploads API (URL, inline) and by chat
 * (images inside messages). The new id has not been handed to anyone, so no one will retry it:
 * when a step fails, neither its item nor its object may stay behind (see discardNewImage).
 */
export async function addWholeImage(deps: IngestDeps, input: NewImageInput): Promise<ImageResult> {
  const { store } = deps;
  const { sessionId, normalized } = input;
  const imageId = newImageId();
  const slotField = input.slot !== undefined ? { slot: input.slot } : {};
  await store.putPendingImage({ sessionId, imageId, source: input.source, ...slotField });
  try {
    return await ingestNormalizedImage(deps, {
      sessionId,
      imageId,
      normalized,
      onDuplicate: 'delete',
      ...slotField,
    });
  } catch (err) {
    await discardNewImage(deps, { sessionId, imageId, normalized });
    throw err;
  }
}

/**
 * Best effort, after a failed addWholeImage: the pending item goes, then its content claim and
 * its object, unless the item turned out ready (a commit whose answer was lost: the object is its
 * bytes). When the item cannot be read, the object stays: the item may still name it, and
 * deleting the session removes both.
 */
async function discardNewImage(
  deps: IngestDeps,
  image: { sessionId: string; imageId: string; normalized: NormalizedImage },
): Promise<void> {
  const { sessionId, imageId, normalized } = image;
  const key = normalizedImageKey(sessionId, imageId, normalized.mime);
  try {
    await deps.store.deletePendingImage(sessionId, imageId);
    const left = await deps.store.getImage(sessionId, imageId);
    if (left?.status === 'ready') return;
    await deps.store.releaseContentClaim(sessionId, imageId, normalized.sha256);
    await deps.objects.delete(key);
  } catch (err) {
    deps.log.warn('could not remove a new image after a failed ingest', { imageId, key, error: err });
  }
}
