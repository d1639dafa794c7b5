// Decodes a streamed function response as the runtime posts it with the content type
// application/vnd.awslambda.http-integration-response: a JSON prelude (statusCode, headers,
// cookies), 8 NUL bytes, then the body as written. Incremental: bytes go in as they arrive.

export const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
const DELIMITER = Buffer.alloc(8);

export interface Prelude {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
}

export type PreludeEvent = { type: 'prelude'; prelude: Prelude } | { type: 'body'; chunk: Buffer };

export class PreludeDecoder {
  private pending: Buffer | undefined = Buffer.alloc(0);

  /** Feeds bytes; returns what they complete (the prelude once, then body chunks). */
  push(bytes: Buffer): PreludeEvent[] {
    if (this.pending === undefined) return bytes.length > 0 ? [{ type: 'body', chunk: bytes }] : [];
    const buf = Buffer.concat([this.pending, bytes]);
    const at = buf.indexOf(DELIMITER);
    if (at < 0) {
      this.pending = buf;
      return [];
    }
    this.pending = undefined;
    const events: PreludeEvent[] = [{ type: 'prelude', prelude: parsePrelude(buf.subarray(0, at)) }];
    const rest = buf.subarray(at + DELIMITER.length);
    if (rest.length > 0) events.push({ type: 'body', chunk: rest });
    return events;
  }

  /** True once the prelude went by. */
  get done(): boolean {
    return this.pending === undefined;
  }
}

/** The prelude JSON; a prelude that is not an object with a numeric statusCode is refused. */
export function parsePrelude(bytes: Buffer): Prelude {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new Error(`the streaming prelude is not JSON: ${bytes.toString('utf8').slice(0, 200)}`);
  }
  if (value === null || typeof value !== 'object') throw new Error('the streaming prelude is not an object');
  const p = value as { statusCode?: unknown; headers?: unknown; cookies?: unknown };
  const headers: Record<string, string> = {};
  if (p.headers && typeof p.headers === 'object') {
    for (const [k, v] of Object.entries(p.headers as Record<string, unknown>))
      headers[k.toLowerCase()] = String(v);
  }
  return {
    statusCode: typeof p.statusCode === 'number' ? p.statusCode : 200,
    headers,
    cookies: Array.isArray(p.cookies) ? p.cookies.map(String) : [],
  };
}
