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
