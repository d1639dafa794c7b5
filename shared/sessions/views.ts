// What browsers are shown of a session and its images: metadata only. Never bytes, never S3
// keys, never the secret hash: those describe our storage, not the user's images.
import { selectContextImages } from './context-images';
import type { SessionImage, SessionRecord } from './types';

export interface PublicImage {
  imageId: string;
  status: 'pending' | 'ready';
  source: SessionImage['source'];
  slot: string | null;
  mime?: string;
  width?: number;
  height?: number;
  bytes?: number;
  sourceBytes?: number;
  createdAt: string;
  readyAt?: string;
  /** Whether the next chat turn shows this image (false once a newer image took its slot). */
  inContext: boolean;
}

export interface PublicSession {
  sessionId: string;
  createdAt: string;
  expiresAt: string;
  conversationId: string | null;
  images: PublicImage[];
}

const iso = (ms: number) => new Date(ms).toISOString();

export function publicImage(image: SessionImage, inContext: boolean): PublicImage {
  const view: PublicImage = {
    imageId: image.imageId,
    status: image.status === 'ready' ? 'ready' : 'pending',
    source: image.source,
    slot: image.slot ?? null,
    createdAt: iso(image.createdAt),
    inContext,
  };
  if (image.status === 'ready') {
    if (image.mime !== undefined) view.mime = image.mime;
    if (image.width !== undefined) view.width = image.width;
    if (image.height !== undefined) view.height = image.height;
    if (image.bytes !== undefined) view.bytes = image.bytes;
    if (image.sourceBytes !== undefined) view.sourceBytes = image.sourceBytes;
    if (image.readyAt !== undefined) view.readyAt = iso(image.readyAt);
  }
  return view;
}

/** Pending and ready images in creation order; duplicates are folded into the image they repeat. */
export function publicSession(session: SessionRecord, images: readonly SessionImage[]): PublicSession {
  const inContext = new Set(selectContextImages(images).map((i) => i.imageId));
  const visible = images
    .filter((i) => i.status !== 'duplicate')
    .sort((a, b) => a.createdAt - b.createdAt || (a.imageId < b.imageId ? -1 : 1));
  return {
    sessionId: session.sessionId,
    createdAt: iso(session.createdAt),
    expiresAt: iso(session.expiresAt),
    conversationId: session.conversationId ?? null,
    images: visible.map((i) => publicImage(i, inContext.has(i.imageId))),
  };
}
