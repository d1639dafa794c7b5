// The local emulator's POST policy check, against S3's documented rules.
import { checkPostPolicy, type PostUpload } from '../../../infra/local/post-policy';

const NOW = Date.parse('2026-01-01T12:00:00Z');

function upload(conditions: unknown[], extra: [string, string][] = []): PostUpload {
  const policy = Buffer.from(JSON.stringify({ expiration: '2026-01-01T12:05:00Z', conditions })).toString(
    'base64',
  );
  return {
    bucket: 'b',
    fields: [
      ['key', 'uploads/s/i'],
      ['Content-Type', 'image/png'],
      ['Policy', policy],
      ['X-Amz-Signature', 'x'],
      ...extra,
    ],
    fileSize: 10,
    now: NOW,
  };
}

const base = [{ bucket: 'b' }, { key: 'uploads/s/i' }, ['eq', '$Content-Type', 'image/png']];

test('a form within every condition is admitted', () => {
  expect(checkPostPolicy(upload([...base, ['content-length-range', 10, 10]]))).toEqual({ ok: true });
});

test('content-length-range: larger is EntityTooLarge, smaller EntityTooSmall (400)', () => {
  expect(checkPostPolicy(upload([...base, ['content-length-range', 5, 9]]))).toMatchObject({
    status: 400,
    code: 'EntityTooLarge',
  });
  expect(checkPostPolicy(upload([...base, ['content-length-range', 11, 20]]))).toMatchObject({
    status: 400,
    code: 'EntityTooSmall',
  });
});

test('a failed eq or starts-with condition, another bucket or key, is AccessDenied (403)', () => {
  expect(checkPostPolicy(upload([...base.slice(0, 2), ['eq', '$Content-Type', 'image/jpeg']]))).toMatchObject(
    {
      status: 403,
      code: 'AccessDenied',
    },
  );
  expect(checkPostPolicy(upload([{ bucket: 'other' }, ...base.slice(1)]))).toMatchObject({ status: 403 });
  expect(
    checkPostPolicy(upload([{ bucket: 'b' }, ['starts-with', '$key', 'images/'], base[2]])),
  ).toMatchObject({ status: 403 });
  expect(checkPostPolicy(upload([{ bucket: 'b' }, ['starts-with', '$key', 'uploads/'], base[2]]))).toEqual({
    ok: true,
  });
});

test('a field the policy does not mention is refused, except x-ignore-* and the signature fields', () => {
  expect(checkPostPolicy(upload(base, [['success_action_redirect', 'https://evil.example']]))).toMatchObject({
    status: 403,
    message: expect.stringContaining('Extra input fields: success_action_redirect'),
  });
  expect(checkPostPolicy(upload(base, [['x-ignore-note', 'anything']]))).toEqual({ ok: true });
});

test('an expired policy, no policy, and no file are refused', () => {
  expect(checkPostPolicy({ ...upload(base), now: Date.parse('2026-01-01T12:05:00Z') })).toMatchObject({
    status: 403,
    message: expect.stringContaining('Policy expired'),
  });
  expect(checkPostPolicy({ ...upload(base), fields: [['key', 'uploads/s/i']] })).toMatchObject({
    status: 403,
    code: 'AccessDenied',
  });
  expect(checkPostPolicy({ ...upload(base), fileSize: undefined })).toMatchObject({ status: 400 });
});
