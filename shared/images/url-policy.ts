// Which image URLs this server agrees to fetch, judged from the URL alone (every redirect
// hop is judged again). Host names are judged later, at connect time, by guarded-lookup.ts.
import { isIP } from 'node:net';
import { UnsafeUrlError } from './fetch-errors';

/** Longer URLs are not image links people paste; refusing them bounds logs and parsing. */
const MAX_URL_LENGTH = 8192;

/** The host as the socket layer wants it: IPv6 literals without their brackets. */
export function connectHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * Parses `raw` with the WHATWG URL parser, which also rewrites numeric host spellings
 * ("2130706433", "0x7f000001", "0177.0.0.1") to dotted quads, so the address check below
 * sees the address that would really be dialled.
 */
export function assertFetchableUrl(
  raw: string | URL,
  opts: { allowHttp: boolean; addressPolicy: (ip: string) => boolean },
): URL {
  const text = raw instanceof URL ? raw.href : raw;
  if (text.length > MAX_URL_LENGTH) {
    throw new UnsafeUrlError('url_not_allowed', `The image URL is longer than ${MAX_URL_LENGTH} characters.`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UnsafeUrlError('url_not_allowed', 'The image URL is not a valid absolute URL.');
  }
  if (url.protocol === 'http:' && !opts.allowHttp) {
    throw new UnsafeUrlError('url_scheme_not_allowed', 'Only https:// image URLs are accepted, not http://.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    const allowed = opts.allowHttp ? 'https:// or http://' : 'https://';
    throw new UnsafeUrlError(
      'url_scheme_not_allowed',
      `Image URLs must start with ${allowed}; "${url.protocol}" URLs are not fetched.`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new UnsafeUrlError(
      'url_not_allowed',
      'Image URLs with embedded credentials (user:password@host) are not accepted.',
    );
  }
  const host = connectHost(url);
  if (host === '') throw new UnsafeUrlError('url_not_allowed', 'The image URL has no host.');
  // The socket layer skips DNS for literal addresses, so the guarded lookup would never see
  // them: they are judged here instead.
  if (isIP(host) !== 0 && !opts.addressPolicy(host)) {
    throw new UnsafeUrlError(
      'url_resolves_to_private_address',
      `The image URL points at ${host}, which is not a public internet address.`,
    );
  }
  return url;
}
