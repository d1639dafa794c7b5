// A programmable upstream for tests: a real HTTP server on 127.0.0.1 that records every request
// and answers each one from a queue of scripted behaviours (streams, errors, hangs, cut sockets).
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * One SSE frame per entry. An entry that already looks like a frame (starts with `data:`,
 * `event:`, `id:`, `retry:` or `:`) is sent as written; anything else is sent as `data: <entry>`.
 * A missing blank-line terminator is added, so a whole recorded stream can be one entry.
 */
export type SseEvents = readonly string[];

export type Behaviour =
  | {
      kind: 'sse';
      events: SseEvents;
      /** Pause before each event, in milliseconds. */
      delayMs?: number;
      /**
       * Write the stream in fragments of this many bytes, each its own socket write with a
       * turn of the event loop in between, so clients see JSON split across packets.
       */
      splitEvery?: number;
      status?: number;
      headers?: Readonly<Record<string, string>>;
    }
  | { kind: 'json'; status: number; body: unknown; headers?: Readonly<Record<string, string>> }
  /** Accepts the request and never answers, until the server closes. */
  | { kind: 'hang' }
  /** Sends these events, then stalls forever with the response open. */
  | { kind: 'hangAfter'; events: SseEvents; delayMs?: number }
  /** Sends these events, then destroys the socket without ending the response. */
  | { kind: 'cut'; events: SseEvents; delayMs?: number }
  /** A 200 with an HTML body where an event stream was expected (a captive portal, a proxy page). */
  | { kind: 'wrongContentType' }
  /** A 200 event stream whose data is not valid JSON; `body` replaces the default garbage. */
  | { kind: 'malformed'; body?: string };

export interface RecordedRequest {
  method: string;
  /** Path and query as received, e.g. `/v1/messages?beta=true`. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; the raw text when it is not JSON; undefined when empty. */
  body: unknown;
  rawBody: string;
  /**
   * How the answer ended: `completed` when it was written to the end, `aborted` when the client
   * closed the connection first (a cancelled SDK call, a cut hedge). Unset while it is running.
   */
  outcome?: 'completed' | 'aborted';
  /** performance.now() when the answer ended, either way. */
  endedAt?: number;
  /** SSE frames written so far: what the upstream has produced (and billed) for this request. */
  framesSent: number;
}

/** A behaviour, or a function choosing one from the request (e.g. stream vs. JSON). */
export type Responder = Behaviour | ((req: RecordedRequest) => Behaviour);

export interface ScriptedServerOptions {
  /** Answer when the queue is empty; a 500 JSON error unless set. */
  default?: Responder;
  /** Paths (without query) that are served; others get a 404 JSON error. All paths if unset. */
  paths?: readonly string[];
}

export interface ScriptedServer {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:54321`. */
  readonly url: string;
  /** Every request received, in arrival order (also the ones answered 404). */
  readonly requests: RecordedRequest[];
  /** Queues a one-shot answer for the next served request (first in, first out). */
  enqueue(...responders: Responder[]): void;
  /** Sets the answer used whenever the queue is empty. */
  setDefault(responder: Responder): void;
  /** Resolves once `n` requests have arrived (useful with `hang`). */
  waitForRequests(n: number): Promise<void>;
  /** Answers started and not yet ended: upstream work still going on. */
  running(): number;
  /** Stops the server and destroys every open socket, hanging ones included. */
  close(): Promise<void>;
}

const FRAME_START = /^(data:|event:|id:|retry:|:)/;

/** Normalizes one entry to a complete SSE frame ending in a blank line. */
export function toSseFrame(entry: string): string {
  const frame = FRAME_START.test(entry) ? entry : `data: ${entry}`;
  if (frame.endsWith('\n\n')) return frame;
  return frame.endsWith('\n') ? `${frame}\n` : `${frame}\n\n`;
}

const DEFAULT_ANSWER: Behaviour = {
  kind: 'json',
  status: 500,
  body: {
    error: { message: 'scripted server: nothing queued', type: 'server_error', param: null, code: null },
  },
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Writes and waits until the bytes are handed to the socket, so a later destroy cannot drop them. */
function writeFlushed(res: ServerResponse, chunk: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    res.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
}

async function writeEvents(
  res: ServerResponse,
  events: SseEvents,
  opts: { delayMs?: number; splitEvery?: number },
  recorded: RecordedRequest,
): Promise<void> {
  for (const entry of events) {
    if (opts.delayMs) await sleep(opts.delayMs);
    if (res.destroyed) return;
    const bytes = Buffer.from(toSseFrame(entry), 'utf8');
    const step = opts.splitEvery && opts.splitEvery > 0 ? opts.splitEvery : bytes.length;
    for (let i = 0; i < bytes.length; i += step) {
      if (res.destroyed) return;
      await writeFlushed(res, bytes.subarray(i, i + step));
      if (step < bytes.length) await nextTurn();
    }
    recorded.framesSent += 1;
  }
}

function startSse(res: ServerResponse, status = 200, headers: Readonly<Record<string, string>> = {}): void {
  res.writeHead(status, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    ...headers,
  });
  // Send the status line and headers now: clients resolve their request on headers.
  res.flushHeaders();
}

async function answer(res: ServerResponse, behaviour: Behaviour, recorded: RecordedRequest): Promise<void> {
  switch (behaviour.kind) {
    case 'sse':
      startSse(res, behaviour.status, behaviour.headers);
      await writeEvents(res, behaviour.events, behaviour, recorded);
      res.end();
      return;
    case 'json': {
      const text = JSON.stringify(behaviour.body);
      res.writeHead(behaviour.status, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(text)),
        ...behaviour.headers,
      });
      res.end(text);
      return;
    }
    case 'hang':
      return;
    case 'hangAfter':
      startSse(res);
      await writeEvents(res, behaviour.events, behaviour, recorded);
      return;
    case 'cut':
      startSse(res);
      await writeEvents(res, behaviour.events, behaviour, recorded);
      res.socket?.destroy();
      return;
    case 'wrongContentType':
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<html><body>Sign in to continue</body></html>');
      return;
    case 'malformed':
      startSse(res);
      res.end(behaviour.body ?? 'data: {"id": "broken", "choices": [\n\ndata: not json at all\n\n');
      return;
    default: {
      const unknown: never = behaviour;
      throw new Error(`unknown behaviour ${JSON.stringify(unknown)}`);
    }
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBody(raw: string): unknown {
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

export async function startScriptedServer(opts: ScriptedServerOptions = {}): Promise<ScriptedServer> {
  const queue: Responder[] = [];
  let fallback: Responder = opts.default ?? DEFAULT_ANSWER;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const paths = opts.paths ? new Set(opts.paths) : undefined;

  const server = createServer((req, res) => {
    void (async () => {
      const rawBody = await readBody(req);
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body: parseBody(rawBody),
        rawBody,
        framesSent: 0,
      };
      requests.push(recorded);
      // The answer ends when its response finishes or its connection closes, whichever is
      // first: a close before the last byte was written is the client aborting.
      res.once('close', () => {
        recorded.outcome = res.writableFinished ? 'completed' : 'aborted';
        recorded.endedAt = performance.now();
      });
      for (const w of waiters.filter((w) => requests.length >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      const pathOnly = recorded.path.split('?')[0] ?? '/';
      if (paths && !paths.has(pathOnly)) {
        await answer(
          res,
          {
            kind: 'json',
            status: 404,
            body: {
              error: {
                message: `no route for ${pathOnly}`,
                type: 'not_found_error',
                param: null,
                code: null,
              },
            },
          },
          recorded,
        );
        return;
      }
      const responder = queue.shift() ?? fallback;
      await answer(res, typeof responder === 'function' ? responder(recorded) : responder, recorded);
    })().catch(() => {
      // The client went away mid-answer (aborts, cut tests): nothing left to answer.
      res.destroy();
    });
  });

  server.on('connection', (socket) => {
    // Each write must reach the client as it happens; Nagle would batch small fragments.
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...responders) => {
      queue.push(...responders);
    },
    setDefault: (responder) => {
      fallback = responder;
    },
    running: () => requests.filter((r) => r.outcome === undefined).length,
    waitForRequests: (n) =>
      requests.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve })),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
