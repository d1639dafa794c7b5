// Method + path routing with `:param` segments. Unknown paths get an OpenAI-style 404, a
// known path with another method a 405, so every answer is a JSON error a client can read.
import { ApiError, NotFoundError, toApiError, ValidationError } from '../errors';
import { type HttpHandler, type HttpRequest, type HttpResponse, jsonResponse } from './types';

export type RouteHandler = (
  req: HttpRequest,
  params: Record<string, string>,
  signal: AbortSignal,
) => Promise<HttpResponse>;

interface Entry {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: RouteHandler;
}

export class Router {
  private readonly entries: Entry[] = [];

  on(method: string, path: string, handler: RouteHandler): this {
    const names: string[] = [];
    const source = path
      .split('/')
      .map((seg) => {
        if (seg.startsWith(':')) {
          names.push(seg.slice(1));
          return '([^/]+)';
        }
        return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    this.entries.push({ method, pattern: new RegExp(`^${source}/?$`), names, handler });
    return this;
  }

  /**
   * The routing handler; any thrown error becomes its OpenAI-style JSON error response, and
   * `onError` hears of every 5xx its raiser has not logged already.
   */
  handler(onError?: (err: unknown) => void): HttpHandler {
    const route = this.dispatch.bind(this);
    return async (req, signal) => {
      try {
        return await route(req, signal);
      } catch (err) {
        const apiErr = toApiError(err);
        if (apiErr.status >= 500 && !apiErr.logged) onError?.(err);
        const headers: Record<string, string> = {};
        if (apiErr.retryAfterSeconds !== undefined) headers['retry-after'] = String(apiErr.retryAfterSeconds);
        return jsonResponse(apiErr.status, apiErr.toBody(), headers);
      }
    };
  }

  private async dispatch(req: HttpRequest, signal: AbortSignal): Promise<HttpResponse> {
    // HEAD is GET without the body (monitors and load balancers probe with it).
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const allowed = new Set<string>();
    for (const e of this.entries) {
      const m = e.pattern.exec(req.path);
      if (!m) continue;
      allowed.add(e.method);
      if (e.method !== method) continue;
      const params: Record<string, string> = {};
      e.names.forEach((n, i) => {
        params[n] = decodePathSegment(m[i + 1]!);
      });
      const res = await e.handler(req, params, signal);
      return req.method === 'HEAD' ? { status: res.status, headers: res.headers, body: '' } : res;
    }
    if (allowed.size > 0 && req.method === 'OPTIONS') return { status: 204, headers: {}, body: '' };
    if (allowed.size > 0) {
      throw new ApiError(
        405,
        'invalid_request_error',
        `Method ${req.method} is not allowed on ${req.path}; use ${[...allowed].join(' or ')}.`,
        {
          code: 'method_not_allowed',
        },
      );
    }
    throw new NotFoundError(`No endpoint at ${req.method} ${req.path}.`, 'unknown_url');
  }
}

/** A malformed percent-escape in the path is the client's error (400), not ours. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ValidationError(
      `The path segment "${segment.slice(0, 100)}" is not valid percent-encoding.`,
      null,
      'invalid_path',
    );
  }
}
