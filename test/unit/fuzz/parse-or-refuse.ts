// The fuzzers' one check for a request parser: it returns, or refuses with a 4xx ApiError carrying
// the four OpenAI error fields; any other throw fails the property.
import { ApiError } from '../../../shared/errors';

/** 'parsed', or the refusal's error code. */
export function parseOrRefuse(
  parse: (body: Buffer | string) => unknown,
  body: string | Buffer,
): 'parsed' | string {
  try {
    parse(body);
    return 'parsed';
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    expect(err.status).toBeGreaterThanOrEqual(400);
    expect(err.status).toBeLessThan(500);
    const { error } = err.toBody();
    expect(typeof error.message).toBe('string');
    expect(error.type).toBe('invalid_request_error');
    expect(typeof error.code).toBe('string');
    return error.code!;
  }
}
