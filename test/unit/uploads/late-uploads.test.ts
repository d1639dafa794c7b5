// The pure part of removing late uploads: which raw objects a pending upload may still need,
// how keys map to their owner, and S3's key encoding in notifications.
import { notificationEncodedKey } from '../../../infra/local/s3-notifications';
import { newImageId, newSessionId } from '../../../shared/sessions/ids';
import { parseRawUploadKey, rawUploadKey } from '../../../shared/sessions/object-keys';
import type { ImageSource, ImageStatus } from '../../../shared/sessions/types';
import { notificationKey, type RawUploadOwner, rawUploadFate } from '../../../shared/uploads/late-uploads';

const image = (status: ImageStatus, source: ImageSource = 'upload') => ({ status, source });
const upload = (
  session: 'active' | 'expired' | 'missing',
  img?: ReturnType<typeof image>,
): RawUploadOwner => ({
  key: 'upload',
  session,
  image: img,
});

test.each<[string, RawUploadOwner, ReturnType<typeof rawUploadFate>]>([
  [
    'a pending upload of a live session (the legitimate upload)',
    upload('active', image('pending')),
    { keep: true },
  ],
  ['a completed image', upload('active', image('ready')), { keep: false, reason: 'image_completed' }],
  [
    'a duplicate (completed, folded into another)',
    upload('active', image('duplicate')),
    { keep: false, reason: 'image_completed' },
  ],
  ['a refused or deleted image', upload('active'), { keep: false, reason: 'image_gone' }],
  [
    'an image that never had a form',
    upload('active', image('pending', 'url')),
    { keep: false, reason: 'not_an_upload' },
  ],
  [
    'a pending upload of an expired session',
    upload('expired', image('pending')),
    { keep: false, reason: 'session_expired' },
  ],
  ['a deleted or unknown session', upload('missing'), { keep: false, reason: 'session_gone' }],
  ['a key we never issue', { key: 'foreign' }, { keep: false, reason: 'not_an_upload_key' }],
])('%s', (_name, owner, fate) => {
  expect(rawUploadFate(owner)).toEqual(fate);
});

test('raw upload keys parse back to their ids; anything else under uploads/ is foreign', () => {
  const sessionId = newSessionId();
  const imageId = newImageId();
  expect(parseRawUploadKey(rawUploadKey(sessionId, imageId))).toEqual({ sessionId, imageId });
  for (const key of [
    `images/${sessionId}/${imageId}`,
    `uploads/${sessionId}`,
    `uploads/${sessionId}/${imageId}/x`,
    `uploads/${sessionId}/../${imageId}`,
    `uploads/${imageId}/${sessionId}`,
    'uploads/page.html',
  ])
    expect(parseRawUploadKey(key)).toBeUndefined();
});

test("notification keys: S3's encoding (segments URL-encoded, spaces as +) decodes back to the key", () => {
  const key = 'uploads/with space/and+plus%/é.jpg';
  const encoded = notificationEncodedKey(key);
  expect(encoded).toBe('uploads/with+space/and%2Bplus%25/%C3%A9.jpg');
  expect(notificationKey(encoded)).toBe(key);
  expect(notificationKey('uploads/%E0%A4%A')).toBeUndefined();
});
