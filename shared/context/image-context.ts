// The chat turn's image context: which session the turn belongs to, the session's images at
// stable places in the history, images sent inside messages normalized and kept in the session,
// and per-target delivery (inline base64 or presigned URL). A voice turn never dies for it: if
// the session store cannot be reached, the turn goes on without images and the failure is logged.
import { inBackground } from '../background';
import type { TurnEnricher } from '../chat/turn-enricher';
import type { HttpRequest } from '../http/types';
import type { ImageLimits } from '../images/normalize';
import type { Logger } from '../observability/log';
import { ThrottledErrorLog } from '../observability/throttled-error-log';
import type { ChatMessage, ChatRequest, UserContentPart } from '../openai/schema';
import type { RouteTarget } from '../routing/routes';
import { newImageId } from '../sessions/ids';
import type { ImageObjects } from '../sessions/image-objects';
import type { SessionStore } from '../sessions/store';
import type { ReadyImage } from '../sessions/types';
import { isStorageUnavailable } from '../storage/faults';
import { ingestNormalizedImage } from '../uploads/ingest';
import { BoundedCache } from './bounded-cache';
import { type NormalizedPart, normalizeMessageImages } from './message-images';
import { placeImages, userTurnAnchors } from './place-images';
import { findSessionRef, type SessionRef } from './resolve-session';

export type ImageDelivery = 'inline' | 'url';

export interface ImageContextDeps {
  /** Session storage; without it only the images inside messages are handled. */
  store: { store: SessionStore; objects: ImageObjects } | undefined;
  log: Logger;
  limits: ImageLimits;
  fetchImage: (url: string) => Promise<Buffer>;
  /** Presigned GET URL for a normalized image (delivery 'url'). */
  presignGet?: (key: string) => Promise<string>;
  /** How a target receives images: its route option, else its provider's default. */
  deliveryFor: (target: RouteTarget) => ImageDelivery;
  /** Bytes of normalized images kept in memory across turns (default 64 MiB). */
  cacheBytes?: number;
  /** Presigned URLs are reused this long so the prompt prefix stays identical (default 50 min). */
  urlReuseMs?: number;
  now?: () => number;
}

const PLACEHOLDER = 'session-image:';
const PRESIGN_TTL_MS = 60 * 60 * 1000;

export function createImageContext(deps: ImageContextDeps): TurnEnricher {
  const now = deps.now ?? Date.now;
  const storage = deps.store;
  const inlineCache = new BoundedCache<string>(deps.cacheBytes ?? 64 * 1024 * 1024, (s) => s.length);
  const urlCache = new Map<string, { url: string; until: number }>();
  const normalizedCache = new BoundedCache<Promise<NormalizedPart>>(32, () => 1);
  /** "<sessionId>:<inputHash>" already stored in that session by this container. */
  const persisted = new BoundedCache<true>(4096, () => 1);
  const messageDeps = { limits: deps.limits, fetchImage: deps.fetchImage, cache: normalizedCache };
  // An outage is one line per minute, not one per turn; anything else (a bug) is logged each time.
  const storageOutage = new ThrottledErrorLog(
    (level, message, fields) => deps.log[level](message, fields),
    'session store unavailable; answering without session images',
    60_000,
    now,
  );

  const imageStackDown = new ThrottledErrorLog(
    (level, message, fields) => deps.log[level](message, fields),
    'image stack unavailable; images inside messages are forwarded unchecked',
    60_000,
    now,
    'error',
  );

  async function inlineUri(image: ReadyImage): Promise<string> {
    const hit = inlineCache.get(image.key);
    if (hit) return hit;
    const read = await storage!.objects.read(image.key, deps.limits.maxInputBytes);
    if (read.kind !== 'bytes') throw new Error(`image object ${image.key} is ${read.kind}`);
    const uri = `data:${image.mime};base64,${read.bytes.toString('base64')}`;
    inlineCache.set(image.key, uri);
    return uri;
  }

  async function presignedUrl(image: ReadyImage): Promise<string> {
    const hit = urlCache.get(image.key);
    if (hit && hit.until > now()) return hit.url;
    if (!deps.presignGet) throw new Error('URL delivery is not configured');
    const url = await deps.presignGet(image.key);
    urlCache.set(image.key, {
      url,
      until: now() + Math.min(deps.urlReuseMs ?? 50 * 60 * 1000, PRESIGN_TTL_MS - 5 * 60 * 1000),
    });
    if (urlCache.size > 4096) urlCache.delete(urlCache.keys().next().value!);
    return url;
  }

  async function resolveSessionId(ref: SessionRef): Promise<string | undefined> {
    if (ref.kind === 'session') return ref.id;
    return storage!.store.sessionIdForConversation(ref.id);
  }

  /** Keeps images that arrived in messages in the session, once per container and session. */
  async function persistMessageImages(
    sessionId: string,
    messages: readonly ChatMessage[],
    images: { messageIndex: number; inputHash: string; normalized: NormalizedPart['normalized'] }[],
  ): Promise<void> {
    const anchors = new Map(userTurnAnchors(messages).map((t) => [t.index, t.anchor]));
    for (const image of images) {
      const key = `${sessionId}:${image.inputHash}`;
      if (persisted.get(key)) continue;
      const imageId = newImageId();
      await storage!.store.putPendingImage({ sessionId, imageId, source: 'message' });
      const result = await ingestNormalizedImage(
        { store: storage!.store, objects: storage!.objects, log: deps.log },
        { sessionId, imageId, normalized: image.normalized, onDuplicate: 'delete' },
      );
      const anchor = anchors.get(image.messageIndex);
      if (anchor) await storage!.store.setImageAnchor(sessionId, result.imageId, anchor);
      persisted.set(key, true);
    }
  }

  return {
    async enrich(request: ChatRequest, http: HttpRequest) {
      // Images inside messages: a bad one is the client's error (400), like an upload would be.
      const inMessages = await normalizeMessageImages(request.messages, messageDeps);
      if (inMessages.unavailable) imageStackDown.report(inMessages.unavailable, {});
      let messages = inMessages.messages;
      const ref = storage ? findSessionRef(request, http.headers) : undefined;
      if (!ref || !storage)
        return { request: { ...request, messages }, imageCount: inMessages.images.length };

      let sessionId: string | undefined;
      let sessionImages: ReadyImage[] = [];
      try {
        sessionId = await resolveSessionId(ref);
        const ctx = sessionId ? await storage.store.loadSessionContext(sessionId) : undefined;
        if (!ctx) {
          deps.log.warn('chat turn names an unknown or expired session; answering without its images', {
            source: ref.source,
            kind: ref.kind,
          });
          return { request: { ...request, messages }, imageCount: inMessages.images.length };
        }
        sessionImages = ctx.images;
        // Awaited, not left to the background: a Lambda environment may freeze once the answer
        // is sent, and the next turn (or ElevenLabs' retry) must find the image.
        if (inMessages.images.length > 0)
          await persistMessageImages(ctx.session.sessionId, messages, inMessages.images);
      } catch (err) {
        if (isStorageUnavailable(err)) storageOutage.report(err, { operation: 'load session context' });
        else deps.log.error('could not load the session; answering without session images', { error: err });
        return { request: { ...request, messages }, imageCount: inMessages.images.length };
      }

      // An image the messages already carry is not added a second time.
      const carried = new Set(inMessages.images.map((i) => i.normalized.sha256));
      const toPlace = sessionImages.filter((i) => !carried.has(i.sha256));
      const byId = new Map(toPlace.map((i) => [i.imageId, i]));
      const placement = placeImages(
        messages,
        toPlace.map((i) => ({
          imageId: i.imageId,
          ...(i.anchor ? { anchor: i.anchor } : {}),
          part: { type: 'image_url', image_url: { url: `${PLACEHOLDER}${i.imageId}` } },
        })),
      );
      messages = placement.messages;
      for (const { imageId, anchor } of placement.newAnchors) {
        inBackground(
          storage.store.setImageAnchor(sessionId!, imageId, anchor).catch((err: unknown) => {
            deps.log.warn('could not record where an image entered the conversation', {
              imageId,
              error: err,
            });
          }),
        );
      }

      const prepared = new Map<ImageDelivery, Promise<ChatRequest>>();
      const materialize = async (delivery: ImageDelivery): Promise<ChatRequest> => {
        const urls = new Map<string, string>();
        await Promise.all(
          [...byId.values()].map(async (image) => {
            try {
              urls.set(
                image.imageId,
                delivery === 'inline' ? await inlineUri(image) : await presignedUrl(image),
              );
            } catch (err) {
              // An unreadable image is left out of this turn rather than failing the turn.
              deps.log.error('could not load a session image; answering without it', {
                imageId: image.imageId,
                error: err,
              });
            }
          }),
        );
        // One pass: each placeholder becomes its URL, or goes when its image could not be loaded.
        const resolveParts = (content: UserContentPart[]): UserContentPart[] =>
          content.flatMap((p) => {
            if (p.type !== 'image_url' || !p.image_url.url.startsWith(PLACEHOLDER)) return [p];
            const url = urls.get(p.image_url.url.slice(PLACEHOLDER.length));
            return url ? [{ type: 'image_url' as const, image_url: { ...p.image_url, url } }] : [];
          });
        return {
          ...request,
          messages: messages.map((m) =>
            m.role === 'user' && typeof m.content !== 'string'
              ? { ...m, content: resolveParts(m.content) }
              : m,
          ),
        };
      };
      const base = { ...request, messages };
      return {
        request: base,
        sessionId: sessionId!,
        imageCount: inMessages.images.length + toPlace.length,
        ...(byId.size > 0
          ? {
              prepare: (target: RouteTarget) => {
                const delivery = deps.deliveryFor(target);
                let p = prepared.get(delivery);
                if (!p) {
                  p = materialize(delivery);
                  prepared.set(delivery, p);
                }
                return p;
              },
            }
          : {}),
      };
    },
  };
}
