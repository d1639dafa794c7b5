// The local host: a node:http server that turns requests into HttpRequests and writes
// HttpResponses, flushing every streamed chunk as it comes. Same core as the Lambda host.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { clientDisconnected, TurnAborted } from '../../shared/chat/turn-abort';
import { DEFAULT_BODY_READ_TIMEOUT_MS } from '../../shared/config';
import { PayloadTooLargeError, RequestTimeoutError, toApiError } from '../../shared/errors';
import type { HttpHandler, HttpRequest, HttpResponse } from '../../shared/http/types';
import type { Logger } from '../../shared/observability/log';

export interface NodeHostOptions {
  maxBodyBytes: number;
  /** A body that has not fully arrived this long after its headers gets a 408 (BODY_READ_TIMEOUT_MS). */
  bodyReadTimeoutMs?: number;
  /** Extra headers on every response (CORS for a local frontend). */
  extraHeaders?: (req: HttpRequest) => Record<string, string>;
  /** Where the host says what went wrong: errors (a 5xx) and clients that left mid-request. */
  log?: Pick<Logger, 'info' | 'error'>;
}

/**
 * Reads the whole body. Rejects with a 413 as soon as it is over `max` (declared or counted),
 * a 408 when it is not complete within `timeoutMs`, and a client abort when the connection
 * closes first. After a 413 or 408 the rest is read and dropped, so the error response reaches
 * the client before the connection closes (closing with unread bytes would reset it).
 */
function readBody(req: IncomingMessage, max: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (err: Error | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        chunks.length = 0;
        reject(err);
      } else resolve(Buffer.concat(chunks));
    };
    const timer = setTimeout(
      () =>
        settle(
          new RequestTimeoutError(
            `The request body did not arrive within ${timeoutMs} ms (${size} bytes received).`,
          ),
        ),
      timeoutMs,
    );
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      settle(new PayloadTooLargeError(`The request body is ${declared} bytes; the limit is ${max}.`));
    }
    req.on('data', (c: Buffer) => {
      if (settled) return;
      size += c.length;
      if (size > max) settle(new PayloadTooLargeError(`The request body exceeds the limit of ${max} bytes.`));
      else chunks.push(c);
    });
    req.on('end', () => settle(undefined));
    req.on('close', () => {
      if (!req.complete) settle(clientDisconnected());
    });
    req.on('error', () => settle(clientDisconnected()));
  });
}

function toHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** Hop-by-hop headers belong to this connection, so Node sets them from what the client asked. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding']);

function endToEnd(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k.toLowerCase())) out[k] = v;
  return out;
}

async function writeResponse(res: ServerResponse, response: HttpResponse): Promise<void> {
  const headers = endToEnd(response.headers);
  if (!response.stream) {
    res.writeHead(response.status, headers);
    res.end(response.body ?? '');
    return;
  }
  // The status line and headers leave with the first chunk, in the same write: a stream's first
  // chunk is ready when the handler returns (buffer words, or the upstream's first event), so
  // flushing them alone would only cost one more syscall and one more client wake-up per stream.
  res.writeHead(response.status, headers);
  const it = response.stream[Symbol.asyncIterator]();
  // No corking of our own: Node's http response already corks the socket for the current tick
  // and flushes it when the tick's work is done, so events parsed from one upstream packet leave
  // in one write, and nothing waits for a later phase of the event loop.
  let finished = false;
  try {
    // The handler sees the client leave through its signal and ends the stream itself; the
    // checks here only stop writing into a closed socket (whose 'close' has already fired, so
    // waiting for 'drain' or 'close' there would wait forever).
    while (!res.destroyed) {
      const r = await it.next();
      if (r.done) {
        finished = true;
        break;
      }
      if (!res.write(r.value) && !res.destroyed)
        await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
    }
  } finally {
    if (!finished) await it.return?.(undefined);
    res.end();
  }
}

export function createNodeHost(handler: HttpHandler, opts: NodeHostOptions): Server {
  const bodyTimeoutMs = opts.bodyReadTimeoutMs ?? DEFAULT_BODY_READ_TIMEOUT_MS;
  const server = createServer(async (req, res) => {
    req.socket.setNoDelay(true);
    const ctrl = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ctrl.abort(clientDisconnected());
    });
    const url = new URL(req.url ?? '/', 'http://local');
    const base: HttpRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      headers: toHeaders(req),
      query: Object.fromEntries(url.searchParams),
      body: Buffer.alloc(0),
      sourceIp: req.socket.remoteAddress ?? '',
    };
    const extra = opts.extraHeaders?.(base) ?? {};
    let bodyRead = false;
    try {
      const body = await readBody(req, opts.maxBodyBytes, bodyTimeoutMs);
      bodyRead = true;
      const response = await handler({ ...base, body }, ctrl.signal);
      response.headers = { ...extra, ...response.headers };
      await writeResponse(res, response);
    } catch (err) {
      if (err instanceof TurnAborted && err.clientGone) {
        // A client that hangs up is routine (a voice barge-in, a closed tab): not an error.
        opts.log?.info('client closed the request', {
          method: base.method,
          path: base.path,
          phase: bodyRead ? 'response' : 'body',
        });
        res.destroy();
        return;
      }
      const apiErr = toApiError(err);
      if (apiErr.status >= 500) opts.log?.error('unhandled', { error: err });
      if (!res.headersSent) {
        // The rest of an unread body is dropped with the connection, after this answer.
        const close = bodyRead ? {} : { connection: 'close' };
        res.writeHead(apiErr.status, { 'content-type': 'application/json', ...extra, ...close });
        res.end(JSON.stringify(apiErr.toBody()));
      } else {
        res.end();
      }
    }
  });
  server.keepAliveTimeout = 65_000;
  return server;
}
