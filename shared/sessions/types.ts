// What a session and its images are, as stored in the sessions table and read by both the
// browser API and the chat function. Times are epoch milliseconds unless named `ttl`.

/**
 * 'pending': created, bytes not yet verified (the browser is uploading, or we are fetching).
 * 'ready': normalized, stored, visible to the chat function.
 * 'duplicate': completed, but its bytes equal an image the session already has (`duplicateOf`);
 * kept only so a repeated complete call gets the same answer. Never shown to a model.
 */
export type ImageStatus = 'pending' | 'ready' | 'duplicate';

/**
 * How the image entered the session: presigned upload, server-side URL fetch, inline data URI, a
 * chat message, or made by an image generation (shared/imagegen).
 */
export type ImageSource = 'upload' | 'url' | 'inline' | 'message' | 'generated';

export interface SessionRecord {
  sessionId: string;
  createdAt: number;
  expiresAt: number;
  /** DynamoDB TTL, epoch seconds. */
  ttl: number;
  /** JWT `sub` of the creator; session-scoped calls must come from the same subject. */
  ownerSub?: string;
  /** Hex SHA-256 of the session secret. */
  secretHash: string;
  /** The most recently linked ElevenLabs conversation. */
  conversationId?: string;
  /** Every conversation linked so far (a page may reconnect), so deletion can remove each link. */
  conversationIds?: string[];
  /** Images created so far, pending and duplicates included; capped per session. */
  imageCount?: number;
}

/** Opaque to this store: the chat function's label for the user turn an image first entered. */
export type ImageAnchor = string;

export interface SessionImage {
  imageId: string;
  status: ImageStatus;
  source: ImageSource;
  /** Images in the same slot replace each other: a turn sees only the newest ready one. */
  slot?: string;
  /** Where the browser uploads the raw bytes (source 'upload' only). */
  rawKey?: string;
  /** Content type the browser declared when asking for the upload form (never trusted). */
  declaredType?: string;
  /** Size the browser declared for the upload form; the form admits exactly this many bytes. */
  declaredBytes?: number;
  /** Normalized image in the bucket, under images/<sessionId>/. */
  key?: string;
  mime?: string;
  width?: number;
  height?: number;
  bytes?: number;
  sourceBytes?: number;
  /** Hex SHA-256 of the normalized bytes. */
  sha256?: string;
  createdAt: number;
  readyAt?: number;
  /** Order of arrival among the session's ready images (readyAt in ms). */
  seq?: number;
  anchor?: ImageAnchor;
  duplicateOf?: string;
  /** Source 'generated': the generation that made it, its prompt, and the provider's own bytes (for display). */
  generationId?: string;
  prompt?: string;
  originalKey?: string;
  originalMime?: string;
  ttl: number;
}

/** A ready image: every field the chat function needs is present. */
export interface ReadyImage extends SessionImage {
  status: 'ready';
  key: string;
  mime: string;
  width: number;
  height: number;
  bytes: number;
  sourceBytes: number;
  sha256: string;
  readyAt: number;
  seq: number;
}

export interface SessionContext {
  session: SessionRecord;
  /** Ready images in arrival order, only the newest one per slot. */
  images: ReadyImage[];
}

export function isReadyImage(image: SessionImage): image is ReadyImage {
  return (
    image.status === 'ready' &&
    typeof image.key === 'string' &&
    typeof image.mime === 'string' &&
    typeof image.width === 'number' &&
    typeof image.height === 'number' &&
    typeof image.bytes === 'number' &&
    typeof image.sourceBytes === 'number' &&
    typeof image.sha256 === 'string' &&
    typeof image.readyAt === 'number' &&
    typeof image.seq === 'number'
  );
}
