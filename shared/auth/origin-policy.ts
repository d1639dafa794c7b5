// Which browser origins may call. Exact string match against the configured list (scheme, host
// and port, no trailing slash), because CORS compares the same way and wildcards invite mistakes.
import { ForbiddenError } from '../errors';

export function assertOriginAllowed(
  origin: string | undefined,
  allowed: readonly string[],
  opts: { required: boolean },
): void {
  if (origin === undefined || origin === '') {
    if (opts.required) {
      throw new ForbiddenError(
        'Requests must come from a web page on an allowed origin (the Origin header is missing).',
        'origin_required',
      );
    }
    return;
  }
  if (allowed.length === 0 && !opts.required) return;
  if (!allowed.includes(origin)) {
    throw new ForbiddenError(
      `The origin ${origin.slice(0, 200)} is not allowed to call this API.`,
      'origin_not_allowed',
    );
  }
}

/**
 * The Origin of a browser request. Browsers send no Origin on a same-origin GET (the reference
 * app, served by the API's own host, reading its session or usage), but they always send
 * `Sec-Fetch-Site`, which no page can set: `same-origin` means a page on this host, whose origin is
 * then `http(s)://<host>`, whichever of the two is allowed. Anything else keeps the header as sent.
 */
export function requestOrigin(
  headers: Readonly<Record<string, string | undefined>>,
  allowed: readonly string[],
): string | undefined {
  if (headers.origin) return headers.origin;
  if (headers['sec-fetch-site'] !== 'same-origin' || !headers.host) return undefined;
  return [`https://${headers.host}`, `http://${headers.host}`].find((o) => allowed.includes(o));
}
