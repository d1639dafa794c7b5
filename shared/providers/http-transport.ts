// The HTTP transport both provider SDKs are given (their documented `fetch` option): node:http
// and node:https with keep-alive agents instead of the runtime's undici-based fetch.
//
// Why: on the path of every streamed token, undici's fetch adds its own HTTP parser in
// WebAssembly, a byte stream and several promise hops per network read. Measured through the
// official SDKs (`make bench`, transport table), this transport costs 10-20% less CPU per
// streamed turn, and 50 streams at a time get their first token 2.5-3 ms sooner. It implements the
// part of fetch the SDKs use: string or byte bodies, headers, abort signals, gzip/deflate/br
// responses. Anything else (a Request object, multipart or streamed bodies) goes to the runtime's
// fetch, as does everything when UPSTREAM_HTTP=fetch.
import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface TransportOptions {
  /** Idle keep-alive sockets are closed after this long (upstreams close theirs at ~60 s+). */
  keepAliveMs?: number;
  /** Where requests this transport does not handle go (tests inject; default: global fetch). */
  fallback?: FetchLike;
}

/** Response headers as a Headers object, keeping repeated headers (set-cookie aside) joined. */
function toHeaders(res: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  return headers;
}

function decoded(res: IncomingMessage): Readable {
  const enc = res.headers['content-encoding']?.trim().toLowerCase();
  const decoder =
    enc === 'gzip' || enc === 'x-gzip'
      ? createGunzip()
      : enc === 'deflate'
        ? createInflate()
        : enc === 'br'
          ? createBrotliDecompress()
          : undefined;
  if (!decoder) return res;
  res.on('error', (err) => decoder.destroy(err));
  return res.pipe(decoder);
}

export function createHttpTransport(opts: TransportOptions = {}): FetchLike {
  const keepAliveMs = opts.keepAliveMs ?? 30_000;
  const agents = {
    'http:': new HttpAgent({ keepAlive: true, keepAliveMsecs: 1000, timeout: keepAliveMs }),
    'https:': new HttpsAgent({ keepAlive: true, keepAliveMsecs: 1000, timeout: keepAliveMs }),
  };
  const fallback: FetchLike = opts.fallback ?? ((input, init) => globalThis.fetch(input, init));

  return function transport(input, init = {}) {
    if (typeof input !== 'string' && !(input instanceof URL)) return fallback(input, init);
    const body = init.body;
    const simpleBody =
      body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
    const url = typeof input === 'string' ? new URL(input) : input;
    const agent = agents[url.protocol as keyof typeof agents];
    if (!simpleBody || !agent) return fallback(input, init);
    const signal = init.signal ?? undefined;
    // Like fetch, an abort rejects with the signal's reason (an AbortError unless one was given).
    if (signal?.aborted) return Promise.reject(signal.reason);

    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, key) => {
      headers[key] = value;
    });
    const payload = typeof body === 'string' ? Buffer.from(body) : (body ?? undefined);
    if (payload) headers['content-length'] = String(payload.length);
    // What the runtime's fetch asks for too; decoded below.
    headers['accept-encoding'] ??= 'gzip, deflate, br';
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const method = init.method ?? 'GET';

    return new Promise<Response>((resolve, reject) => {
      let settled = false;
      let req: ClientRequest;
      let res: IncomingMessage | undefined;
      const onAbort = () => {
        const reason: unknown = signal!.reason;
        // Before the response: the fetch promise rejects. After: the body stream errors.
        if (!settled) {
          settled = true;
          reject(reason);
        }
        req.destroy(reason instanceof Error ? reason : undefined);
        res?.destroy(reason instanceof Error ? reason : new Error(String(reason)));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const detach = () => signal?.removeEventListener('abort', onAbort);
      const fail = (err: unknown) => {
        detach();
        if (!settled) {
          settled = true;
          reject(new TypeError('fetch failed', { cause: err }));
        }
      };

      const attempt = (retried: boolean) => {
        req = send(url, { method, headers, agent });
        req.setNoDelay(true);
        req.on('error', (err: NodeJS.ErrnoException) => {
          // A pooled connection the server closed while it sat idle (or while a Lambda
          // environment was frozen) fails before any response byte: the request never reached
          // the server's handler, so it goes again once, on a new connection (Node's documented
          // pattern for keep-alive agents).
          if (!settled && !res && !retried && req.reusedSocket && isStaleSocketError(err)) {
            attempt(true);
            return;
          }
          fail(err);
        });
        req.once('response', (incoming) => {
          res = incoming;
          if (settled) {
            incoming.destroy();
            return;
          }
          incoming.once('close', detach);
          const status = incoming.statusCode ?? 0;
          const nullBody = status === 204 || status === 304 || method === 'HEAD';
          try {
            if (nullBody) incoming.resume();
            const stream = nullBody
              ? null
              : (Readable.toWeb(decoded(incoming)) as ReadableStream<Uint8Array>);
            const response = new Response(stream, {
              status,
              statusText: incoming.statusMessage ?? '',
              headers: toHeaders(incoming),
            });
            settled = true;
            resolve(response);
          } catch (err) {
            // A status or header the Response class refuses (fetch refuses them too).
            incoming.destroy();
            fail(err);
          }
        });
        req.end(payload);
      };
      attempt(false);
    });
  };
}

/** Errors of a request written to a connection the server had already closed. */
function isStaleSocketError(err: NodeJS.ErrnoException): boolean {
  return err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.message === 'socket hang up';
}
