// What a provider sent as an image becomes a ProviderImage only when it is one: base64 checked
// strictly, the format sniffed from the bytes, the size bounded.
import { UpstreamError } from '../../../shared/errors';
import {
  MAX_PROVIDER_IMAGE_BYTES,
  providerImageFromBase64,
  providerImageFromBytes,
} from '../../../shared/imagegen/image-bytes';

const PNG_HEAD = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const JPEG_HEAD = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]);

test.each([
  ['PNG', PNG_HEAD, 'image/png'],
  ['JPEG', JPEG_HEAD, 'image/jpeg'],
])('%s base64 is decoded and typed by its signature', (_n, bytes, mime) => {
  const image = providerImageFromBase64(bytes.toString('base64'), 'p', 'revised');
  expect(image).toEqual({ bytes: expect.any(Uint8Array), mimeType: mime, revisedPrompt: 'revised' });
});

test('base64 split over lines (as some servers wrap it) is accepted', () => {
  const b64 = PNG_HEAD.toString('base64');
  expect(providerImageFromBase64(`${b64.slice(0, 8)}\n${b64.slice(8)}`, 'p')).not.toBeInstanceOf(
    UpstreamError,
  );
});

test.each<[string, unknown, RegExp]>([
  ['missing', undefined, /no base64 image/],
  ['empty', '', /no base64 image/],
  ['not base64', 'iVBOR!!w0KGgo=', /not valid base64/],
  ['a length that is not a multiple of 4', 'iVBORw0KGgo', /not valid base64/],
  ['text', Buffer.from('<html>error</html>').toString('base64'), /not a PNG, JPEG, WebP, GIF or AVIF/],
  ['SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>').toString('base64'), /not a PNG/],
])('%s is a malformed_image UpstreamError naming the provider', (_n, b64, message) => {
  const out = providerImageFromBase64(b64, 'together');
  expect(out).toBeInstanceOf(UpstreamError);
  expect((out as UpstreamError).errorClass).toBe('malformed_image');
  expect((out as UpstreamError).message).toMatch(/^together returned no usable image: /);
  expect((out as UpstreamError).message).toMatch(message);
});

test('bytes over the bound are refused before anything else', () => {
  const big = new Uint8Array(MAX_PROVIDER_IMAGE_BYTES + 1);
  big.set(PNG_HEAD);
  expect((providerImageFromBytes(big, 'p') as UpstreamError).message).toMatch(/larger than/);
});
