// SessionStore against the DynamoDB emulator: the item layout the chat function relies on,
// the one-Query context read, and the conditional writes that keep images consistent.
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ApiError } from '../../../shared/errors';
import { newImageId } from '../../../shared/sessions/ids';
import { SessionStore, STALE_CLAIM_MS } from '../../../shared/sessions/store';
import { partitionItems, SESSIONS_TABLE, startTestStorage, type TestStorage } from './harness';

let storage: TestStorage;
const clock = { now: Date.UTC(2026, 0, 1) };
let store: SessionStore;

beforeAll(async () => {
  storage = await startTestStorage();
  store = new SessionStore({
    client: storage.clients.dynamo,
    tableName: SESSIONS_TABLE,
    now: () => clock.now,
    objects: { deleteAll: async () => {} },
    maxImagesPerSession: 3,
    maxConversationsPerSession: 2,
  });
});
afterAll(() => storage.close());

function readyInput(sessionId: string, imageId: string, sha: string) {
  return {
    sessionId,
    imageId,
    key: `images/${sessionId}/${imageId}.jpg`,
    mime: 'image/jpeg',
    width: 4,
    height: 3,
    bytes: 10,
    sourceBytes: 20,
    sha256: sha.padEnd(64, '0'),
  };
}

async function apiCode(p: Promise<unknown>): Promise<string | null> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(err)}`);
  return err.code;
}

test('an image item, once ready, carries every field of the agreed layout', async () => {
  const { sessionId } = await store.createSession({ ttlSeconds: 600, ownerSub: 'user-9' });
  const imageId = newImageId();
  await store.putPendingImage({
    sessionId,
    imageId,
    source: 'upload',
    slot: 'canvas',
    rawKey: `uploads/${sessionId}/${imageId}`,
    declaredType: 'image/png',
  });
  clock.now += 7;
  const outcome = await store.markImageReady(readyInput(sessionId, imageId, 'aa'));
  expect(outcome.kind).toBe('ready');
  const items = await partitionItems(storage, sessionId);
  const ttl = Math.ceil((clock.now - 7 + 600_000) / 1000);
  expect(items.find((i) => i.sk === `IMAGE#${imageId}`)).toEqual({
    pk: `SESSION#${sessionId}`,
    sk: `IMAGE#${imageId}`,
    imageId,
    status: 'ready',
    source: 'upload',
    slot: 'canvas',
    rawKey: `uploads/${sessionId}/${imageId}`,
    declaredType: 'image/png',
    key: `images/${sessionId}/${imageId}.jpg`,
    mime: 'image/jpeg',
    width: 4,
    height: 3,
    bytes: 10,
    sourceBytes: 20,
    sha256: 'aa'.padEnd(64, '0'),
    createdAt: clock.now - 7,
    readyAt: clock.now,
    seq: clock.now,
    ttl,
  });
  expect(items.find((i) => i.sk === `SHA#${'aa'.padEnd(64, '0')}`)).toEqual(
    expect.objectContaining({ pk: `SESSION#${sessionId}`, imageId, ttl }),
  );
  expect(items.find((i) => i.sk === 'META')).toEqual(
    expect.objectContaining({ ownerSub: 'user-9', imageCount: 1 }),
  );
});

test('loadSessionContext is exactly one Query and returns only ready images', async () => {
  const { sessionId } = await store.createSession({ ttlSeconds: 600 });
  const ready = newImageId();
  const pending = newImageId();
  await store.putPendingImage({ sessionId, imageId: ready, source: 'inline' });
  await store.putPendingImage({ sessionId, imageId: pending, source: 'upload' });
  await store.markImageReady(readyInput(sessionId, ready, 'bb'));

  const send = jest.spyOn(storage.clients.dynamo, 'send');
  try {
    const context = await store.loadSessionContext(sessionId);
    expect(send).toHaveBeenCalledTimes(1);
    expect(send.mock.calls[0]![0]).toBeInstanceOf(QueryCommand);
    expect(context?.session.sessionId).toBe(sessionId);
    expect(context?.images.map((i) => i.imageId)).toEqual([ready]);
  } finally {
    send.mockRestore();
  }
});

test('an image cap per session, checked in the same write that checks the session is alive', async () => {
  const { sessionId } = await store.createSession({ ttlSeconds: 600 });
  for (let i = 0; i < 3; i++)
    await store.putPendingImage({ sessionId, imageId: newImageId(), source: 'upload' });
  expect(await apiCode(store.putPendingImage({ sessionId, imageId: newImageId(), source: 'upload' }))).toBe(
    'session_image_limit_reached',
  );

  const short = await store.createSession({ ttlSeconds: 60 });
  clock.now += 60_000;
  expect(
    await apiCode(
      store.putPendingImage({ sessionId: short.sessionId, imageId: newImageId(), source: 'url' }),
    ),
  ).toBe('session_expired');
  expect(
    await apiCode(
      store.putPendingImage({ sessionId: 's_AAAAAAAAAAAAAAAAAAAAAA', imageId: newImageId(), source: 'url' }),
    ),
  ).toBe('session_not_found');
});

test('content claims: a duplicate points at the ready image; a fresh rival is busy; a stale one is taken over', async () => {
  const { sessionId } = await store.createSession({ ttlSeconds: 3600 });
  const [a, b, c] = [newImageId(), newImageId(), newImageId()];
  for (const id of [a, b, c]) await store.putPendingImage({ sessionId, imageId: id, source: 'upload' });
  const sha = 'cc'.padEnd(64, '0');

  expect(await store.claimImageContent(sessionId, a, sha)).toEqual({ kind: 'claimed' });
  expect(await store.claimImageContent(sessionId, a, sha)).toEqual({ kind: 'claimed' });
  expect(await store.claimImageContent(sessionId, b, sha)).toEqual({ kind: 'busy' });

  // a's completion died: after the stale period, b takes the claim and becomes ready.
  clock.now += STALE_CLAIM_MS + 1;
  const outcome = await store.markImageReady(readyInput(sessionId, b, 'cc'));
  expect(outcome.kind).toBe('ready');
  // a, retried late, now finds b's ready image; c too.
  expect(await store.markImageReady(readyInput(sessionId, a, 'cc'))).toEqual({
    kind: 'duplicate',
    image: expect.objectContaining({ imageId: b }),
  });
  expect(await store.claimImageContent(sessionId, c, sha)).toEqual({
    kind: 'duplicate',
    image: expect.objectContaining({ imageId: b }),
  });

  const context = await store.loadSessionContext(sessionId);
  expect(context?.images.map((i) => i.imageId)).toEqual([b]);
});

test('only a pending image becomes ready; a deleted one releases its claim', async () => {
  const { sessionId } = await store.createSession({ ttlSeconds: 3600 });
  const first = newImageId();
  await store.putPendingImage({ sessionId, imageId: first, source: 'upload' });
  const ready = await store.markImageReady(readyInput(sessionId, first, 'dd'));
  // Marking it ready again changes nothing and answers the stored image.
  clock.now += 1000;
  const again = await store.markImageReady({ ...readyInput(sessionId, first, 'dd'), width: 999 });
  expect(again).toEqual(ready);

  const gone = newImageId();
  await store.putPendingImage({ sessionId, imageId: gone, source: 'upload' });
  expect(await store.claimImageContent(sessionId, gone, 'ee'.padEnd(64, '0'))).toEqual({ kind: 'claimed' });
  await store.deletePendingImage(sessionId, gone);
  expect(await store.markImageReady(readyInput(sessionId, gone, 'ee'))).toEqual({ kind: 'missing' });
  const shaItems = (await partitionItems(storage, sessionId)).filter((i) => String(i.sk).startsWith('SHA#'));
  expect(shaItems.map((i) => i.imageId)).toEqual([first]);
  // A ready image is never removed as "pending".
  await store.deletePendingImage(sessionId, first);
  expect((await store.getImage(sessionId, first))?.status).toBe('ready');
});

test('setImageAnchor records the first turn only', async () => {
  const { sessionId } = await store.createSession({ ttlSeconds: 3600 });
  const imageId = newImageId();
  await store.putPendingImage({ sessionId, imageId, source: 'message' });
  expect(await store.setImageAnchor(sessionId, imageId, 'turn-3')).toBe(true);
  expect(await store.setImageAnchor(sessionId, imageId, 'turn-5')).toBe(false);
  expect((await store.getImage(sessionId, imageId))?.anchor).toBe('turn-3');
  expect(await store.setImageAnchor(sessionId, newImageId(), 'turn-1')).toBe(false);
});

test('conversation links: capped per session, refused over the cap without leaving a link', async () => {
  const { sessionId } = await store.createSession({ ttlSeconds: 3600 });
  await store.linkConversation(sessionId, 'conv_link000001');
  await store.linkConversation(sessionId, 'conv_link000002');
  await store.linkConversation(sessionId, 'conv_link000002');
  expect(await apiCode(store.linkConversation(sessionId, 'conv_link000003'))).toBe(
    'session_conversation_limit_reached',
  );
  expect(await store.sessionIdForConversation('conv_link000003')).toBeUndefined();
  expect(await store.sessionIdForConversation('conv_link000002')).toBe(sessionId);
  expect((await store.getSession(sessionId))?.conversationIds).toEqual([
    'conv_link000001',
    'conv_link000002',
  ]);

  // Links expire with their session (TTL precision: seconds).
  clock.now += 3601_000;
  expect(await store.sessionIdForConversation('conv_link000001')).toBeUndefined();
});
