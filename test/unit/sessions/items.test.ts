import { imageFromItem, sessionFromItem } from '../../../shared/sessions/items';
import { publicSession } from '../../../shared/sessions/views';

test('a META item reads back into a session; string sets become sorted lists', () => {
  const session = sessionFromItem({
    pk: 'SESSION#s_x',
    sk: 'META',
    sessionId: 's_x',
    createdAt: 1,
    expiresAt: 2,
    ttl: 3,
    secretHash: 'ab',
    conversationIds: new Set(['conv_b', 'conv_a']),
  });
  expect(session).toEqual({
    sessionId: 's_x',
    createdAt: 1,
    expiresAt: 2,
    ttl: 3,
    secretHash: 'ab',
    conversationIds: ['conv_a', 'conv_b'],
  });
});

test('malformed items are skipped, not cast', () => {
  expect(
    sessionFromItem({ sessionId: 's_x', createdAt: '1', expiresAt: 2, ttl: 3, secretHash: 'ab' }),
  ).toBeUndefined();
  expect(
    imageFromItem({ imageId: 'img_x', status: 'weird', source: 'upload', createdAt: 1, ttl: 1 }),
  ).toBeUndefined();
  expect(
    imageFromItem({ imageId: 'img_x', status: 'ready', source: 'fax', createdAt: 1, ttl: 1 }),
  ).toBeUndefined();
});

test('the public view shows metadata only, in creation order, without duplicates', () => {
  const view = publicSession(
    { sessionId: 's_x', createdAt: 0, expiresAt: 60_000, ttl: 60, secretHash: 'secret-hash' },
    [
      {
        imageId: 'img_2',
        status: 'ready',
        source: 'url',
        key: 'images/s_x/img_2.jpg',
        rawKey: 'uploads/s_x/img_2',
        mime: 'image/jpeg',
        width: 4,
        height: 3,
        bytes: 10,
        sourceBytes: 20,
        sha256: 'f'.repeat(64),
        createdAt: 2000,
        readyAt: 3000,
        seq: 3000,
        ttl: 60,
      },
      {
        imageId: 'img_1',
        status: 'pending',
        source: 'upload',
        rawKey: 'uploads/s_x/img_1',
        createdAt: 1000,
        ttl: 60,
      },
      {
        imageId: 'img_3',
        status: 'duplicate',
        source: 'upload',
        duplicateOf: 'img_2',
        createdAt: 4000,
        ttl: 60,
      },
    ],
  );
  expect(view).toEqual({
    sessionId: 's_x',
    createdAt: '1970-01-01T00:00:00.000Z',
    expiresAt: '1970-01-01T00:01:00.000Z',
    conversationId: null,
    images: [
      {
        imageId: 'img_1',
        status: 'pending',
        source: 'upload',
        slot: null,
        createdAt: '1970-01-01T00:00:01.000Z',
        inContext: false,
      },
      {
        imageId: 'img_2',
        status: 'ready',
        source: 'url',
        slot: null,
        mime: 'image/jpeg',
        width: 4,
        height: 3,
        bytes: 10,
        sourceBytes: 20,
        createdAt: '1970-01-01T00:00:02.000Z',
        readyAt: '1970-01-01T00:00:03.000Z',
        inContext: true,
      },
    ],
  });
  expect(JSON.stringify(view)).not.toMatch(/images\/|uploads\/|secret-hash|ffff/);
});
