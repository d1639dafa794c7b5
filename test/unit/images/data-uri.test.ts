import { ValidationError } from '../../../shared/errors';
import { parseDataUri, toDataUri } from '../../../shared/images/data-uri';
import { ImageRejectedError } from '../../../shared/images/errors';

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError || err instanceof ImageRejectedError) return err.code;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('parseDataUri', () => {
  const bytes = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49]);

  test('round-trips with toDataUri', () => {
    const uri = toDataUri('image/jpeg', bytes);
    expect(uri).toBe(`data:image/jpeg;base64,${bytes.toString('base64')}`);
    const parsed = parseDataUri(uri, 1024);
    expect(parsed.mime).toBe('image/jpeg');
    expect(parsed.bytes.equals(bytes)).toBe(true);
  });

  test('toDataUri encodes only the view, not the whole underlying buffer', () => {
    const backing = Buffer.from('xxxxHELLOxxxx');
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 4, 5);
    expect(toDataUri('text/plain', view)).toBe(
      `data:text/plain;base64,${Buffer.from('HELLO').toString('base64')}`,
    );
  });

  test('tolerates an upper-case scheme, mime parameters and unpadded base64', () => {
    const parsed = parseDataUri('DATA:Image/PNG;name=x.png;BASE64,aGk', 10);
    expect(parsed.mime).toBe('image/png');
    expect(parsed.bytes.toString()).toBe('hi');
  });

  test('a missing media type defaults to text/plain (RFC 2397)', () => {
    expect(parseDataUri('data:;base64,aGk=', 10).mime).toBe('text/plain');
  });

  test.each([
    ['not a data URI', 'https://example.com/a.png', 'invalid_data_uri'],
    ['no comma', 'data:image/png;base64', 'invalid_data_uri'],
    ['percent-encoded, not base64', 'data:image/svg+xml,%3Csvg%3E', 'data_uri_not_base64'],
    ['bad mime', 'data:image;base64,aGk=', 'invalid_data_uri'],
    ['empty payload', 'data:image/png;base64,', 'invalid_data_uri'],
    ['characters outside base64', 'data:image/png;base64,aGk*aGk=', 'invalid_data_uri'],
    ['whitespace inside', 'data:image/png;base64,aGk aGk=', 'invalid_data_uri'],
    ['impossible length', 'data:image/png;base64,aGkha', 'invalid_data_uri'],
    ['padding in the middle', 'data:image/png;base64,aG==aGk=', 'invalid_data_uri'],
  ])('%s is refused with a precise code', (_name, uri, code) => {
    expect(codeOf(() => parseDataUri(uri, 1024))).toBe(code);
  });

  test('the size cap is exact: max bytes pass, one more is image_too_large (413)', () => {
    const five = `data:image/png;base64,${Buffer.alloc(5).toString('base64')}`;
    expect(parseDataUri(five, 5).bytes.length).toBe(5);
    let thrown: unknown;
    try {
      parseDataUri(five, 4);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ImageRejectedError);
    expect((thrown as ImageRejectedError).code).toBe('image_too_large');
    expect((thrown as ImageRejectedError).status).toBe(413);
  });

  test('the size cap is checked before the payload is validated or decoded', () => {
    // 40 MB of characters that are not even base64: a decode-first parser would spend the
    // memory and then report invalid base64; we must report the size.
    const huge = `data:image/png;base64,${'*'.repeat(40 * 1024 * 1024)}`;
    const spy = jest.spyOn(Buffer, 'from');
    try {
      expect(codeOf(() => parseDataUri(huge, 1024 * 1024))).toBe('image_too_large');
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});
