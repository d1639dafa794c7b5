// Sessions and their images in the sessions table (layout in keys.ts and types.ts). The browser
// API writes here; the chat function reads a whole session with one Query per turn.
//
// Making an image ready uses no DynamoDB transaction (the local emulator, dynalite, has none):
// it is a claim, then a commit, each a single conditional write. The SHA#<sha256> item is
// claimed first, so the same bytes never become ready twice in a session; the IMAGE item then
// flips from pending to ready in one UpdateItem carrying every field, so a reader sees either
// a pending image (ignored) or a complete ready one, never a half-written record. A claim left
// behind by a crash between the two is taken over once it is older than STALE_CLAIM_MS.
import {
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { isConditionFailed } from '../limits/control-table';
import { selectContextImages } from './context-images';
import {
  conversationAlreadyLinked,
  conversationLimitReached,
  imageLimitReached,
  invalidConversationId,
  invalidImageId,
  invalidSessionId,
  sessionExpired,
  sessionNotFound,
} from './errors';
import { isConversationId, isImageId, isSessionId, newSessionId } from './ids';
import type { ImageObjects } from './image-objects';
import { imageFromItem, sessionFromItem } from './items';
import { conversationKeys, sessionKeys } from './keys';
import { NORMALIZED_MIMES, normalizedImageKey, rawUploadKey } from './object-keys';
import { hashSessionSecret, newSessionSecret, sessionSecretMatches } from './secret';
import type {
  ImageAnchor,
  ImageSource,
  ReadyImage,
  SessionContext,
  SessionImage,
  SessionRecord,
} from './types';
import { isReadyImage } from './types';

export type { SessionImage, SessionRecord } from './types';

export interface SessionStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Epoch milliseconds; injectable so tests can expire sessions. */
  now?: () => number;
  /** The bucket side of deleteSession; required only by it. */
  objects?: Pick<ImageObjects, 'deleteAll'>;
  /** Images (attempts included) one session may create. */
  maxImagesPerSession?: number;
  /** ElevenLabs conversations one session may be linked to (reconnects). */
  maxConversationsPerSession?: number;
}

export type SessionLookup =
  | { state: 'active'; session: SessionRecord }
  | { state: 'expired'; session: SessionRecord }
  | { state: 'missing' };

export interface CreatedSession {
  sessionId: string;
  /** Returned to the browser once; only its hash is stored. */
  secret: string;
  expiresAt: number;
  session: SessionRecord;
}

export interface PendingImageInput {
  sessionId: string;
  imageId: string;
  source: ImageSource;
  slot?: string;
  rawKey?: string;
  declaredType?: string;
  declaredBytes?: number;
  /** Source 'generated' only (see SessionImage). */
  generated?: { generationId: string; prompt: string; originalKey: string; originalMime: string };
}

/** What making an image ready records: the ReadyImage fields the normalized bytes determine. */
export type ReadyImageInput = { sessionId: string } & Pick<
  ReadyImage,
  'imageId' | 'key' | 'mime' | 'width' | 'height' | 'bytes' | 'sourceBytes' | 'sha256'
>;

/** Who holds the right to make a given content hash ready in a session. */
export type ContentClaim =
  | { kind: 'claimed' }
  /** The session already has these bytes as a ready image. */
  | { kind: 'duplicate'; image: ReadyImage }
  /** Another image with these bytes is being made ready right now; retry shortly. */
  | { kind: 'busy' }
  /** The image (or its session) no longer exists. */
  | { kind: 'missing' };

export type MarkReadyOutcome =
  | { kind: 'ready'; image: ReadyImage }
  | { kind: 'duplicate'; image: ReadyImage }
  | { kind: 'busy' }
  /** The pending image (or its session) was deleted meanwhile. */
  | { kind: 'missing' };

export const DEFAULT_MAX_IMAGES_PER_SESSION = 100;
export const DEFAULT_MAX_CONVERSATIONS_PER_SESSION = 20;

/** A content claim older than this belongs to a completion that died (Lambda timeouts are 60 s). */
export const STALE_CLAIM_MS = 2 * 60_000;

/** BatchWriteItem's limit. */
const BATCH_SIZE = 25;
const MAX_BATCH_ATTEMPTS = 5;

type Item = Record<string, unknown>;

export class SessionStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly now: () => number;
  private readonly objects: Pick<ImageObjects, 'deleteAll'> | undefined;
  private readonly maxImages: number;
  private readonly maxConversations: number;

  constructor(opts: SessionStoreOptions) {
    this.client = opts.client;
    this.table = opts.tableName;
    this.now = opts.now ?? Date.now;
    this.objects = opts.objects;
    this.maxImages = opts.maxImagesPerSession ?? DEFAULT_MAX_IMAGES_PER_SESSION;
    this.maxConversations = opts.maxConversationsPerSession ?? DEFAULT_MAX_CONVERSATIONS_PER_SESSION;
  }

  // ---- sessions ----

  async createSession(input: { ttlSeconds: number; ownerSub?: string }): Promise<CreatedSession> {
    const createdAt = this.now();
    const expiresAt = createdAt + input.ttlSeconds * 1000;
    const sessionId = newSessionId();
    const secret = newSessionSecret();
    const session: SessionRecord = {
      sessionId,
      createdAt,
      expiresAt,
      ttl: Math.ceil(expiresAt / 1000),
      secretHash: hashSessionSecret(secret),
      ...(input.ownerSub !== undefined ? { ownerSub: input.ownerSub } : {}),
    };
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: sessionKeys.partition(sessionId), sk: sessionKeys.meta, ...session },
        // 128 random bits do not collide; the condition makes that an error rather than an overwrite.
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return { sessionId, secret, expiresAt, session };
  }

  /** The session and whether it is still usable. Malformed ids are 'missing' without any I/O. */
  async lookupSession(sessionId: string): Promise<SessionLookup> {
    if (!isSessionId(sessionId)) return { state: 'missing' };
    const out = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: sessionKeys.partition(sessionId), sk: sessionKeys.meta },
        ConsistentRead: true,
      }),
    );
    const session = out.Item ? sessionFromItem(out.Item) : undefined;
    if (!session) return { state: 'missing' };
    // DynamoDB deletes expired items only eventually (and dynalite never), so expiry is ours to check.
    return session.expiresAt <= this.now() ? { state: 'expired', session } : { state: 'active', session };
  }

  /** An active session; expired and unknown sessions are both absent. */
  async getSession(sessionId: string): Promise<SessionRecord | undefined> {
    const found = await this.lookupSession(sessionId);
    return found.state === 'active' ? found.session : undefined;
  }

  verifySecret(session: SessionRecord, secret: string): boolean {
    return sessionSecretMatches(session.secretHash, secret);
  }

  /**
   * Points an ElevenLabs conversation at this session, so turns naming only the conversation
   * find the session's images. A conversation already linked to another session stays there:
   * otherwise anyone with a session could inject images into someone else's conversation.
   */
  async linkConversation(sessionId: string, conversationId: string): Promise<void> {
    if (!isSessionId(sessionId)) throw invalidSessionId();
    if (!isConversationId(conversationId)) throw invalidConversationId();
    const found = await this.lookupSession(sessionId);
    if (found.state === 'missing') throw sessionNotFound();
    if (found.state === 'expired') throw sessionExpired();
    const linkKey = { pk: conversationKeys.partition(conversationId), sk: conversationKeys.link };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...linkKey, sessionId, linkedAt: this.now(), ttl: found.session.ttl },
          ConditionExpression: 'attribute_not_exists(pk) OR sessionId = :sid',
          ExpressionAttributeValues: { ':sid': sessionId },
        }),
      );
    } catch (err) {
      if (isConditionFailed(err)) throw conversationAlreadyLinked();
      throw err;
    }
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: sessionKeys.partition(sessionId), sk: sessionKeys.meta },
          UpdateExpression: 'SET conversationId = :cid ADD conversationIds :cids',
          ConditionExpression:
            'attribute_exists(pk) AND expiresAt > :now AND (attribute_not_exists(conversationIds) OR contains(conversationIds, :cid) OR size(conversationIds) < :max)',
          ExpressionAttributeValues: {
            ':cid': conversationId,
            ':cids': new Set([conversationId]),
            ':now': this.now(),
            ':max': this.maxConversations,
          },
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      // Undo the link: it must not point at a session that refused it.
      await this.deleteLinkIfOurs(conversationId, sessionId);
      const again = await this.lookupSession(sessionId);
      if (again.state === 'missing') throw sessionNotFound();
      if (again.state === 'expired') throw sessionExpired();
      throw conversationLimitReached(this.maxConversations);
    }
  }

  async sessionIdForConversation(conversationId: string): Promise<string | undefined> {
    if (!isConversationId(conversationId)) return undefined;
    const out = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: conversationKeys.partition(conversationId), sk: conversationKeys.link },
      }),
    );
    const sessionId = out.Item?.sessionId;
    const ttl = out.Item?.ttl;
    if (typeof sessionId !== 'string' || typeof ttl !== 'number' || ttl * 1000 <= this.now())
      return undefined;
    return sessionId;
  }

  /**
   * What a chat turn needs, in exactly one Query on the session's partition: the session and
   * its ready images in arrival order, one per slot. Undefined for unknown or expired sessions.
   */
  async loadSessionContext(sessionId: string): Promise<SessionContext | undefined> {
    if (!isSessionId(sessionId)) return undefined;
    // Filters may not name key attributes, so items are told apart by what they carry: only
    // META has a secretHash, only IMAGE items have a status (SHA# claims are left out).
    const items = await this.queryPartition(sessionId, {
      FilterExpression: 'attribute_exists(secretHash) OR #status = :ready',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':ready': 'ready' },
    });
    let session: SessionRecord | undefined;
    const images: SessionImage[] = [];
    for (const item of items) {
      if (item.sk === sessionKeys.meta) session = sessionFromItem(item);
      else {
        const image = imageFromItem(item);
        if (image) images.push(image);
      }
    }
    if (!session || session.expiresAt <= this.now()) return undefined;
    return { session, images: selectContextImages(images) };
  }

  /** Every image of the session, whatever its status (one Query). */
  async listImages(sessionId: string): Promise<SessionImage[]> {
    if (!isSessionId(sessionId)) return [];
    const items = await this.queryPartition(sessionId, {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :image)',
      ExpressionAttributeValues: { ':image': sessionKeys.imagePrefix },
    });
    return items.map(imageFromItem).filter((i): i is SessionImage => i !== undefined);
  }

  async getImage(sessionId: string, imageId: string): Promise<SessionImage | undefined> {
    if (!isSessionId(sessionId) || !isImageId(imageId)) return undefined;
    const out = await this.client.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: sessionKeys.partition(sessionId), sk: sessionKeys.image(imageId) },
        ConsistentRead: true,
      }),
    );
    return out.Item ? imageFromItem(out.Item) : undefined;
  }

  // ---- images ----

  /**
   * Records an image that is on its way (upload form issued, or bytes being ingested). Counts
   * against the session's image cap, in the same conditional write that checks the session is
   * alive, so a deleted or expired session cannot gain images.
   */
  async putPendingImage(input: PendingImageInput): Promise<SessionImage> {
    if (!isSessionId(input.sessionId)) throw invalidSessionId();
    if (!isImageId(input.imageId)) throw invalidImageId();
    const now = this.now();
    let ttl: number;
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: sessionKeys.partition(input.sessionId), sk: sessionKeys.meta },
          UpdateExpression: 'SET imageCount = if_not_exists(imageCount, :zero) + :one',
          ConditionExpression:
            'attribute_exists(pk) AND expiresAt > :now AND (attribute_not_exists(imageCount) OR imageCount < :max)',
          ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':now': now, ':max': this.maxImages },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const newTtl = out.Attributes?.ttl;
      if (typeof newTtl !== 'number') throw new Error('session item has no ttl');
      ttl = newTtl;
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      const found = await this.lookupSession(input.sessionId);
      if (found.state === 'missing') throw sessionNotFound();
      if (found.state === 'expired') throw sessionExpired();
      throw imageLimitReached(this.maxImages);
    }
    const image: SessionImage = {
      imageId: input.imageId,
      status: 'pending',
      source: input.source,
      createdAt: now,
      ttl,
      ...(input.slot !== undefined ? { slot: input.slot } : {}),
      ...(input.rawKey !== undefined ? { rawKey: input.rawKey } : {}),
      ...(input.declaredType !== undefined ? { declaredType: input.declaredType } : {}),
      ...(input.declaredBytes !== undefined ? { declaredBytes: input.declaredBytes } : {}),
      ...(input.generated ?? {}),
    };
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: sessionKeys.partition(input.sessionId), sk: sessionKeys.image(input.imageId), ...image },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return image;
  }

  /**
   * Claims the right to make `sha256` ready in this session for `imageId` (idempotent for the
   * same image). Callers claim before storing the normalized bytes, so a duplicate costs no
   * S3 write.
   */
  async claimImageContent(sessionId: string, imageId: string, sha256: string): Promise<ContentClaim> {
    const key = { pk: sessionKeys.partition(sessionId), sk: sessionKeys.content(sha256) };
    const mine = await this.getImage(sessionId, imageId);
    if (!mine) return { kind: 'missing' };
    // A few rounds: each conflict is resolved by reading the holder, which may itself change.
    for (let round = 0; round < 3; round++) {
      const now = this.now();
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...key, imageId, claimedAt: now, ttl: mine.ttl },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return { kind: 'claimed' };
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
      const holder = (
        await this.client.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }))
      ).Item;
      if (!holder) continue;
      const holderId = holder.imageId;
      if (holderId === imageId) return { kind: 'claimed' };
      const other = typeof holderId === 'string' ? await this.getImage(sessionId, holderId) : undefined;
      if (other && isReadyImage(other)) return { kind: 'duplicate', image: other };
      const claimedAt = typeof holder.claimedAt === 'number' ? holder.claimedAt : 0;
      if (other?.status === 'pending' && now - claimedAt < STALE_CLAIM_MS) return { kind: 'busy' };
      // The holder died mid-completion or was removed: take its claim over.
      try {
        await this.client.send(
          new UpdateCommand({
            TableName: this.table,
            Key: key,
            UpdateExpression: 'SET imageId = :mine, claimedAt = :now',
            ConditionExpression: 'imageId = :theirs',
            ExpressionAttributeValues: { ':mine': imageId, ':now': now, ':theirs': holderId },
          }),
        );
        return { kind: 'claimed' };
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
    }
    return { kind: 'busy' };
  }

  /**
   * Makes a pending image ready: claims its content hash (see claimImageContent), then flips
   * the IMAGE item from pending to ready with every field in one conditional write. Returns the
   * existing image when the session already has these bytes.
   */
  async markImageReady(input: ReadyImageInput): Promise<MarkReadyOutcome> {
    if (!isSessionId(input.sessionId)) throw invalidSessionId();
    if (!isImageId(input.imageId)) throw invalidImageId();
    const claim = await this.claimImageContent(input.sessionId, input.imageId, input.sha256);
    if (claim.kind === 'missing') {
      // The image went away after an earlier attempt claimed its content: free the hash.
      await this.releaseContentClaim(input.sessionId, input.imageId, input.sha256);
      return claim;
    }
    if (claim.kind !== 'claimed') return claim;
    const readyAt = this.now();
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: sessionKeys.partition(input.sessionId), sk: sessionKeys.image(input.imageId) },
          UpdateExpression:
            'SET #status = :ready, #key = :key, mime = :mime, width = :width, height = :height, #bytes = :bytes, sourceBytes = :sourceBytes, sha256 = :sha256, readyAt = :readyAt, seq = :seq',
          ConditionExpression: 'attribute_exists(pk) AND #status = :pending',
          ExpressionAttributeNames: { '#status': 'status', '#key': 'key', '#bytes': 'bytes' },
          ExpressionAttributeValues: {
            ':ready': 'ready',
            ':pending': 'pending',
            ':key': input.key,
            ':mime': input.mime,
            ':width': input.width,
            ':height': input.height,
            ':bytes': input.bytes,
            ':sourceBytes': input.sourceBytes,
            ':sha256': input.sha256,
            ':readyAt': readyAt,
            ':seq': readyAt,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const image = out.Attributes ? imageFromItem(out.Attributes) : undefined;
      if (!image || !isReadyImage(image)) throw new Error('ready image item is incomplete');
      return { kind: 'ready', image };
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
    const current = await this.getImage(input.sessionId, input.imageId);
    if (current && isReadyImage(current)) return { kind: 'ready', image: current };
    await this.releaseContentClaim(input.sessionId, input.imageId, input.sha256);
    return { kind: 'missing' };
  }

  /** Folds a pending image into the ready one with the same bytes, keeping an answer for retries. */
  async markImageDuplicate(sessionId: string, imageId: string, duplicateOf: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: sessionKeys.partition(sessionId), sk: sessionKeys.image(imageId) },
          UpdateExpression: 'SET #status = :duplicate, duplicateOf = :of REMOVE rawKey',
          ConditionExpression: 'attribute_exists(pk) AND #status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':duplicate': 'duplicate', ':of': duplicateOf, ':pending': 'pending' },
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }

  /**
   * The same bytes arrived again into `slot`: the existing image becomes that slot's newest
   * (a canvas undone back to an earlier drawing must show that drawing), so its slot and seq
   * move. Its anchor stays: the turn it first entered is still where it belongs.
   */
  async promoteImageInSlot(
    sessionId: string,
    imageId: string,
    slot: string,
  ): Promise<ReadyImage | undefined> {
    const seq = this.now();
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: sessionKeys.partition(sessionId), sk: sessionKeys.image(imageId) },
          UpdateExpression: 'SET slot = :slot, seq = :seq',
          ConditionExpression: '#status = :ready',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':slot': slot, ':seq': seq, ':ready': 'ready' },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const image = out.Attributes ? imageFromItem(out.Attributes) : undefined;
      return image && isReadyImage(image) ? image : undefined;
    } catch (err) {
      if (isConditionFailed(err)) return undefined;
      throw err;
    }
  }

  /** Removes a pending image (its bytes were refused); a ready image is never touched. */
  async deletePendingImage(sessionId: string, imageId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: sessionKeys.partition(sessionId), sk: sessionKeys.image(imageId) },
          ConditionExpression: '#status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':pending': 'pending' },
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }

  /**
   * Removes one image the browser no longer wants shown: its objects first, then the aliases
   * folded into it (duplicates), its content claim (so the same bytes may be added again) and
   * its item last, so a failure midway leaves an item that still knows what to delete and the
   * call can be repeated. The id of a duplicate removes the image it was folded into, the one
   * its `complete` answered with. A turn already reading the image answers without it (the chat
   * function leaves out an image it cannot load). The session's image count is not given back:
   * it caps attempts, not what is shown. Returns false when there is no such image.
   */
  async deleteImage(sessionId: string, imageId: string): Promise<boolean> {
    if (!isSessionId(sessionId) || !isImageId(imageId)) return false;
    if (!this.objects) throw new Error('SessionStore.deleteImage needs the `objects` option');
    const images = await this.listImages(sessionId);
    const asked = images.find((i) => i.imageId === imageId);
    if (!asked) return false;
    const targetId = asked.status === 'duplicate' && asked.duplicateOf ? asked.duplicateOf : imageId;
    const target = images.find((i) => i.imageId === targetId) ?? asked;
    const aliases = images.filter((i) => i.status === 'duplicate' && i.duplicateOf === target.imageId);
    const doomed = [target, ...aliases.filter((a) => a.imageId !== target.imageId)];

    const objectKeys: string[] = [];
    for (const image of doomed) {
      if (image.key) objectKeys.push(image.key);
      if (image.originalKey) objectKeys.push(image.originalKey);
      if (image.rawKey) objectKeys.push(image.rawKey);
      if (image.source === 'upload') objectKeys.push(rawUploadKey(sessionId, image.imageId));
    }
    await this.objects.deleteAll(objectKeys);
    if (target.sha256) await this.releaseContentClaim(sessionId, target.imageId, target.sha256);
    // The target last: while it exists, a repeated call finds everything again.
    const keys = [...doomed.slice(1), target].map((i) => ({
      pk: sessionKeys.partition(sessionId),
      sk: sessionKeys.image(i.imageId),
    }));
    await this.batchDelete(keys.slice(0, -1));
    await this.client.send(new DeleteCommand({ TableName: this.table, Key: keys.at(-1)! }));
    return true;
  }

  /**
   * Records the turn an image first entered, once: later turns (and ElevenLabs' retries of the
   * same turn) must find the image where it was, so provider prompt caches keep hitting.
   * Returns false when an anchor was already set (or the image is gone).
   */
  async setImageAnchor(sessionId: string, imageId: string, anchor: ImageAnchor): Promise<boolean> {
    if (!isSessionId(sessionId) || !isImageId(imageId)) return false;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: sessionKeys.partition(sessionId), sk: sessionKeys.image(imageId) },
          UpdateExpression: 'SET anchor = :anchor',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(anchor)',
          ExpressionAttributeValues: { ':anchor': anchor },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  /**
   * Removes the session: its objects first, then its items, the META item last, so a failure
   * midway leaves a record that still knows what to delete and the call can simply be repeated.
   * Returns false when there was nothing to delete.
   */
  async deleteSession(sessionId: string): Promise<boolean> {
    if (!isSessionId(sessionId)) return false;
    if (!this.objects) throw new Error('SessionStore.deleteSession needs the `objects` option');
    const items = await this.queryPartition(sessionId, {});
    if (items.length === 0) return false;

    const objectKeys: string[] = [];
    let session: SessionRecord | undefined;
    for (const item of items) {
      if (item.sk === sessionKeys.meta) {
        session = sessionFromItem(item);
        continue;
      }
      const image =
        typeof item.sk === 'string' && item.sk.startsWith(sessionKeys.imagePrefix)
          ? imageFromItem(item)
          : undefined;
      if (!image) continue;
      if (image.key) objectKeys.push(image.key);
      // A completion that died between its S3 write and its commit left the normalized object
      // under the key the image would have had; deleting a key that does not exist is free of errors.
      else
        objectKeys.push(
          ...NORMALIZED_MIMES.map((mime) => normalizedImageKey(sessionId, image.imageId, mime)),
        );
      if (image.rawKey) objectKeys.push(image.rawKey);
      if (image.originalKey) objectKeys.push(image.originalKey);
      // A raw upload may exist even after its item forgot it (duplicates drop rawKey).
      if (image.source === 'upload') objectKeys.push(rawUploadKey(sessionId, image.imageId));
    }
    await this.objects.deleteAll(objectKeys);

    for (const conversationId of session?.conversationIds ?? [])
      await this.deleteLinkIfOurs(conversationId, sessionId);
    const children = items.filter((i) => i.sk !== sessionKeys.meta).map((i) => ({ pk: i.pk, sk: i.sk }));
    await this.batchDelete(children);
    await this.client.send(
      new DeleteCommand({
        TableName: this.table,
        Key: { pk: sessionKeys.partition(sessionId), sk: sessionKeys.meta },
      }),
    );
    return true;
  }

  // ---- internals ----

  private async queryPartition(sessionId: string, extra: Partial<QueryCommandInput>): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Record<string, unknown> | undefined;
    // One page in practice (a session holds at most a few hundred small items); the loop only
    // guards against the 1 MB page limit.
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ConsistentRead: true,
          ...extra,
          ExpressionAttributeValues: {
            ':pk': sessionKeys.partition(sessionId),
            ...extra.ExpressionAttributeValues,
          },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      items.push(...((out.Items ?? []) as Item[]));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /** Frees `sha256` in this session if `imageId` holds it (its bytes were never stored). */
  async releaseContentClaim(sessionId: string, imageId: string, sha256: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: sessionKeys.partition(sessionId), sk: sessionKeys.content(sha256) },
          ConditionExpression: 'imageId = :mine',
          ExpressionAttributeValues: { ':mine': imageId },
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }

  private async deleteLinkIfOurs(conversationId: string, sessionId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: conversationKeys.partition(conversationId), sk: conversationKeys.link },
          ConditionExpression: 'sessionId = :sid',
          ExpressionAttributeValues: { ':sid': sessionId },
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }

  private async batchDelete(keys: Record<string, unknown>[]): Promise<void> {
    for (let i = 0; i < keys.length; i += BATCH_SIZE) {
      let requests: { DeleteRequest: { Key: Record<string, unknown> } }[] = keys
        .slice(i, i + BATCH_SIZE)
        .map((Key) => ({ DeleteRequest: { Key } }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt >= MAX_BATCH_ATTEMPTS)
          throw new Error('sessions table kept throttling the session deletion');
        if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
        const out = await this.client.send(
          new BatchWriteCommand({ RequestItems: { [this.table]: requests } }),
        );
        requests = (out.UnprocessedItems?.[this.table] ?? []).flatMap((r) =>
          r.DeleteRequest?.Key ? [{ DeleteRequest: { Key: r.DeleteRequest.Key } }] : [],
        );
      }
    }
  }
}
