import { bearerToken } from '../../../shared/auth/bearer-token';
import { assertOriginAllowed, requestOrigin } from '../../../shared/auth/origin-policy';
import { ApiError } from '../../../shared/errors';

function codeOf(fn: () => unknown): string | null | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof ApiError ? err.code : 'not-an-api-error';
  }
}

test('origins match exactly', () => {
  const allowed = ['https://app.example.com'];
  expect(
    codeOf(() => assertOriginAllowed('https://app.example.com', allowed, { required: true })),
  ).toBeUndefined();
  for (const near of [
    'https://app.example.com/',
    'http://app.example.com',
    'https://app.example.com.evil.io',
    'https://APP.example.com',
    'null',
  ]) {
    expect(codeOf(() => assertOriginAllowed(near, allowed, { required: true }))).toBe('origin_not_allowed');
  }
});

test('a missing Origin is refused only where it is required', () => {
  expect(codeOf(() => assertOriginAllowed(undefined, ['https://a.example'], { required: true }))).toBe(
    'origin_required',
  );
  expect(
    codeOf(() => assertOriginAllowed(undefined, ['https://a.example'], { required: false })),
  ).toBeUndefined();
  // An empty list outside anonymous mode means "any origin".
  expect(codeOf(() => assertOriginAllowed('https://b.example', [], { required: false }))).toBeUndefined();
});

test('bearer tokens', () => {
  expect(bearerToken({ authorization: 'Bearer abc.def.ghi' })).toBe('abc.def.ghi');
  expect(bearerToken({ authorization: 'bearer   abc.def.ghi ' })).toBe('abc.def.ghi');
  expect(codeOf(() => bearerToken({}))).toBe('missing_token');
  expect(codeOf(() => bearerToken({ authorization: 'Basic dXNlcg==' }))).toBe('invalid_token');
  expect(codeOf(() => bearerToken({ authorization: 'Bearer a b' }))).toBe('invalid_token');
});

test('a same-origin GET (no Origin, Sec-Fetch-Site: same-origin) has its host as origin, when that is allowed', () => {
  const allowed = ['https://api.example.com', 'http://127.0.0.1:8787'];
  const sameOrigin = (host: string) => ({ host, 'sec-fetch-site': 'same-origin' });
  expect(requestOrigin(sameOrigin('api.example.com'), allowed)).toBe('https://api.example.com');
  expect(requestOrigin(sameOrigin('127.0.0.1:8787'), allowed)).toBe('http://127.0.0.1:8787');
  // A host that is not an allowed origin stays without one, and is refused as before.
  expect(requestOrigin(sameOrigin('other.example.com'), allowed)).toBeUndefined();
  // Cross-site or unknown fetch metadata proves nothing.
  expect(requestOrigin({ host: 'api.example.com', 'sec-fetch-site': 'cross-site' }, allowed)).toBeUndefined();
  expect(requestOrigin({ host: 'api.example.com' }, allowed)).toBeUndefined();
  // An Origin that is sent is what counts.
  expect(requestOrigin({ origin: 'https://evil.example', ...sameOrigin('api.example.com') }, allowed)).toBe(
    'https://evil.example',
  );
});
