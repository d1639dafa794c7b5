// The host-neutral HTTP shape: the Lambda adapters and the local dev server translate to and
// from it, and everything behind it is plain TypeScript that tests call directly.

export interface HttpRequest {
  method: string;
  /** Path without query string, e.g. "/v1/chat/completions". */
  path: string;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Readonly<Record<string, string>>;
  query: Readonly<Record<string, string>>;
  body: Buffer;
  /** The caller's IP address as the host saw it (function URL: requestContext.http.sourceIp). */
  sourceIp: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  /** A complete body; or `stream`, whose strings are written and flushed as they come. */
  body?: string;
  stream?: AsyncIterable<string>;
}

/**
 * A route handler. `signal` aborts when the client disconnects, so upstream calls stop too.
 */
export type HttpHandler = (req: HttpRequest, signal: AbortSignal) => Promise<HttpResponse>;

export function jsonResponse(
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(value),
  };
}
