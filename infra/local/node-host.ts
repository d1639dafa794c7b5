// The local host: a node:http server that turns requests into HttpRequests and writes
// HttpResponses, flushing every streamed chunk as it comes. Same core as the Lambda host.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { PayloadTooLargeError, toApiError } from '../../shared/errors';
import type { HttpHandler, HttpRequest, HttpResponse } from '../../shared/http/types';

export interface NodeHostOptions {
  maxBodyBytes: number;
  /** Extra headers on every response (CORS for a local frontend). */
  extraHeaders?: (req: HttpRequest) => Record<string, string>;
  onError?: (err: unknown) => void;
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      reject(new PayloadTooLargeError(`The request body is ${declared} bytes; the limit is ${max}.`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new PayloadTooLargeError(`The request body exceeds the limit of ${max} bytes.`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function toHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

async function writeResponse(
  res: ServerResponse,
  response: HttpResponse,
  signal: AbortSignal,
): Promise<void> {
  if (!response.stream) {
    res.writeHead(response.status, response.headers);
    res.end(response.body ?? '');
    return;
  }
  // The status line and headers leave with the first chunk, in the same write: a stream's first
  // chunk is ready when the handler returns (buffer words, or the upstream's first event), so
  // flushing them alone would only cost one more syscall and one more client wake-up per stream.
  res.writeHead(response.status, response.headers);
  const it = response.stream[Symbol.asyncIterator]();
  // No corking of our own: Node's http response already corks the socket for the current tick
  // and flushes it when the tick's work is done, so events parsed from one upstream packet leave
  // in one write, and nothing waits for a later phase of the event loop.
  try {
    while (!signal.aborted) {
      const r = await it.next();
      if (r.done) break;
      if (!res.write(r.value))
        await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
    }
  } finally {
    if (signal.aborted) await it.return?.(undefined);
    res.end();
  }
}

export function createNodeHost(handler: HttpHandler, opts: NodeHostOptions): Server {
  const server = createServer(async (req, res) => {
    req.socket.setNoDelay(true);
    const ctrl = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ctrl.abort(new Error('client disconnected'));
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
    try {
      const body = await readBody(req, opts.maxBodyBytes);
      const response = await handler({ ...base, body }, ctrl.signal);
      response.headers = { ...extra, ...response.headers };
      await writeResponse(res, response, ctrl.signal);
    } catch (err) {
      const apiErr = toApiError(err);
      if (apiErr.status >= 500) opts.onError?.(err);
      if (!res.headersSent) {
        res.writeHead(apiErr.status, { 'content-type': 'application/json', ...extra });
        res.end(JSON.stringify(apiErr.toBody()));
      } else {
        res.end();
      }
    }
  });
  server.keepAliveTimeout = 65_000;
  return server;
}
