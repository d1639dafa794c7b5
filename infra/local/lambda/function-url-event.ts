// Pure translations between HTTP and a Lambda function URL, as AWS documents them: the request
// event (payload format 2.0) and the buffered response format. The local front uses them.
import type { LambdaFunctionURLEvent } from 'aws-lambda';

export interface UrlRequest {
  method: string;
  /** Path and query exactly as sent ("/a/b?x=1&x=2"). */
  rawUrl: string;
  /** Node's rawHeaders: name, value, name, value... (keeps repeats and their order). */
  rawHeaders: readonly string[];
  body: Buffer;
  sourceIp: string;
  protocol: string;
}

export interface UrlContext {
  requestId: string;
  now: Date;
  /** The URL id, the first label of `<url-id>.lambda-url.<region>.on.aws`. */
  urlId: string;
  region: string;
}

/**
 * Content types a function URL hands over as text; every other body (images, multipart forms,
 * form posts, octet streams, no content type) arrives base64-encoded with isBase64Encoded true.
 */
export function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/javascript'
  );
}

/** "12/Mar/2020:19:03:58 +0000", the format of requestContext.time. */
export function requestTime(d: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** The event a function URL sends for one HTTP request (payload format 2.0, auth type NONE). */
export function functionUrlEvent(req: UrlRequest, ctx: UrlContext): LambdaFunctionURLEvent {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const value = req.rawHeaders[i + 1]!;
    // Cookies move out of the headers into their own array, one entry per cookie.
    if (name === 'cookie') {
      for (const c of value.split(';')) if (c.trim() !== '') cookies.push(c.trim());
      continue;
    }
    // Repeated headers are combined with commas.
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const domainName = `${ctx.urlId}.lambda-url.${ctx.region}.on.aws`;
  headers.host = domainName;
  headers['x-forwarded-for'] = req.sourceIp;
  headers['x-forwarded-proto'] = 'https';
  headers['x-forwarded-port'] = '443';
  headers['x-amzn-trace-id'] =
    `Root=1-${Math.floor(ctx.now.getTime() / 1000).toString(16)}-${ctx.requestId.replace(/-/g, '').slice(0, 24)}`;

  const q = req.rawUrl.indexOf('?');
  const rawPath = q < 0 ? req.rawUrl : req.rawUrl.slice(0, q);
  const rawQueryString = q < 0 ? '' : req.rawUrl.slice(q + 1);
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(rawQueryString)) {
    query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
  }
  const text = isTextContentType(headers['content-type']);
  const userAgent = headers['user-agent'] ?? '';
  const event: LambdaFunctionURLEvent = {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: ctx.urlId,
      domainName,
      domainPrefix: ctx.urlId,
      http: { method: req.method, path: rawPath, protocol: req.protocol, sourceIp: req.sourceIp, userAgent },
      requestId: ctx.requestId,
      routeKey: '$default',
      stage: '$default',
      time: requestTime(ctx.now),
      timeEpoch: ctx.now.getTime(),
    },
    ...(req.body.length > 0 ? { body: req.body.toString(text ? 'utf8' : 'base64') } : {}),
    isBase64Encoded: req.body.length > 0 && !text,
  };
  return event;
}

export interface UrlResponse {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

/**
 * A buffered function's return value as the URL answers it: an object with `statusCode` is a
 * response (headers, cookies, body, isBase64Encoded); any other JSON value is a 200
 * application/json body holding that value.
 */
export function fromBufferedResult(result: unknown): UrlResponse {
  if (result !== null && typeof result === 'object' && 'statusCode' in result) {
    const r = result as {
      statusCode: number;
      headers?: Record<string, string>;
      cookies?: string[];
      body?: string;
      isBase64Encoded?: boolean;
    };
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = String(v);
    return {
      statusCode: r.statusCode,
      headers,
      cookies: r.cookies ?? [],
      body: Buffer.from(r.body ?? '', r.isBase64Encoded ? 'base64' : 'utf8'),
    };
  }
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    cookies: [],
    body: Buffer.from(result === undefined ? '' : JSON.stringify(result)),
  };
}
