// A function URL in front of a pool of execution environments: turns each HTTP request into the
// function URL event, invokes the function the way its URL's invoke mode says (BUFFERED, or
// RESPONSE_STREAM relayed chunk by chunk as the runtime posts it), and answers the way a Lambda
// function URL does at its limits: 413 for a request over 6 MB, 502 for a function error, a
// timeout or an oversized buffered response, and a cut connection when a stream fails midway.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import {
  type EnvironmentOptions,
  ExecutionEnvironment,
  type FunctionError,
  type HostEvent,
  type InvocationSink,
} from './execution-environment';
import { fromBufferedResult, functionUrlEvent } from './function-url-event';
import type { InvokeMode, UrlCors } from './stack-functions';
import { HTTP_INTEGRATION_CONTENT_TYPE, PreludeDecoder } from './streaming-prelude';

export interface LambdaLimits {
  requestBytes: number;
  bufferedResponseBytes: number;
  streamedResponseBytes: number;
  initTimeoutMs: number;
}

/** Lambda's documented payload limits. */
export const LAMBDA_LIMITS: Readonly<LambdaLimits> = {
  /** Invoke request payload (the event JSON): 6 MB. */
  requestBytes: 6 * 1024 * 1024,
  /** Buffered response payload: 6 MB. */
  bufferedResponseBytes: 6 * 1024 * 1024,
  /** Streamed response: 200 MB (the first 6 MB at full speed, then bandwidth-limited on AWS). */
  streamedResponseBytes: 200 * 1024 * 1024,
  initTimeoutMs: 10_000,
};

export interface FunctionUrlOptions {
  name: string;
  handler: string;
  codeDir: string;
  projectRoot: string;
  timeoutSeconds: number;
  memoryMb: number;
  invokeMode: InvokeMode;
  cors?: UrlCors;
  environment: Record<string, string>;
  region: string;
  /** Environments this URL may run at once (the function's concurrency); 429 beyond. */
  maxConcurrency: number;
  limits?: Partial<LambdaLimits>;
  onLog(line: string): void;
  onEvent(e: HostEvent): void;
  /** Sees each invocation's environment (tests inject faults through it). */
  onInvoke?(env: ExecutionEnvironment, requestId: string): void;
}

export class FunctionUrl {
  readonly environments: ExecutionEnvironment[] = [];
  private nextEnvId = 1;
  private readonly limits: LambdaLimits;
  readonly urlId: string;

  constructor(private readonly opts: FunctionUrlOptions) {
    this.limits = { ...LAMBDA_LIMITS, ...opts.limits };
    this.urlId = `local${opts.name}`.slice(0, 32);
  }

  /** Environments that have not been shut down (idle, busy or still starting). */
  get live(): ExecutionEnvironment[] {
    return this.environments.filter((e) => e.state !== 'dead');
  }

  close(): void {
    for (const env of this.environments) env.kill();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = req.headers.origin;
    const cors = this.corsHeaders(origin);
    if (this.opts.cors && req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      // Function URLs answer CORS preflights themselves, without invoking the function.
      req.resume();
      res.writeHead(200, {
        ...cors,
        ...(cors['access-control-allow-origin']
          ? {
              'access-control-allow-methods': this.opts.cors.allowMethods.join(','),
              'access-control-allow-headers': this.opts.cors.allowHeaders.join(','),
              'access-control-max-age': String(this.opts.cors.maxAgeSeconds),
            }
          : {}),
      });
      res.end();
      return;
    }
    const body = await readBody(req, this.limits.requestBytes);
    const now = new Date();
    const requestId = randomUUID();
    const event =
      body === undefined
        ? undefined
        : functionUrlEvent(
            {
              method: req.method ?? 'GET',
              rawUrl: req.url ?? '/',
              rawHeaders: req.rawHeaders,
              body,
              sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
              protocol: `HTTP/${req.httpVersion}`,
            },
            { requestId, now, urlId: this.urlId, region: this.opts.region },
          );
    if (!event || Buffer.byteLength(JSON.stringify(event)) > this.limits.requestBytes) {
      this.opts.onLog(
        `${this.opts.name}: request refused, its payload exceeds ${this.limits.requestBytes} bytes`,
      );
      return sendError(res, 413, 'RequestTooLargeException', {
        Message: `Request must be smaller than ${this.limits.requestBytes} bytes for the InvokeFunction operation`,
      });
    }
    const env = await this.acquire();
    if (!env) {
      return sendError(res, 429, 'TooManyRequestsException', { Message: 'Rate Exceeded.' });
    }
    const sink =
      this.opts.invokeMode === 'RESPONSE_STREAM'
        ? streamingSink(res, cors, this.opts.onLog)
        : bufferedSink(res, cors, this.opts.onLog);
    const id = env.invoke(event, sink);
    this.opts.onInvoke?.(env, id);
  }

  /**
   * An asynchronous invocation (InvocationType Event), the way S3 invokes a function for a
   * bucket notification: it waits for a free environment while the concurrency is used up (Lambda
   * queues such events) and resolves with the outcome. Lambda's two retries of a failed event
   * are not modelled here.
   */
  async invokeEvent(event: unknown): Promise<{ ok: true } | { ok: false; error: FunctionError }> {
    let env = await this.acquire();
    for (let waited = 0; !env; waited += EVENT_QUEUE_POLL_MS) {
      if (waited >= this.opts.timeoutSeconds * 1000) {
        this.opts.onLog(`${this.opts.name}: asynchronous event dropped, no environment became free`);
        return {
          ok: false,
          error: { errorType: 'TooManyRequestsException', errorMessage: 'Rate Exceeded.' },
        };
      }
      await delay(EVENT_QUEUE_POLL_MS);
      env = await this.acquire();
    }
    const taken = env;
    return new Promise((resolve) => {
      const done = (error?: FunctionError) => {
        if (error)
          this.opts.onLog(
            `${this.opts.name}: asynchronous invocation failed: ${error.errorType}: ${error.errorMessage}`,
          );
        resolve(error ? { ok: false, error } : { ok: true });
      };
      // The caller of an asynchronous invocation never sees a response: only success or failure.
      const sink: InvocationSink = {
        result: () => done(),
        fail: done,
        streamStart() {},
        streamChunk() {},
        streamEnd: done,
      };
      const id = taken.invoke(event, sink);
      this.opts.onInvoke?.(taken, id);
    });
  }

  private corsHeaders(origin: string | undefined): Record<string, string> {
    const cors = this.opts.cors;
    if (!cors || !origin) return {};
    if (!cors.allowOrigins.includes('*') && !cors.allowOrigins.includes(origin)) return {};
    return { 'access-control-allow-origin': origin, vary: 'Origin' };
  }

  /** An idle environment, else a new one (a cold start), else none: the concurrency is used up. */
  private async acquire(): Promise<ExecutionEnvironment | undefined> {
    const idle = this.environments.find((e) => e.state === 'idle' || (e.state === 'init' && !e.claimed));
    if (idle) {
      idle.claimed = true;
      return idle;
    }
    if (this.live.length >= this.opts.maxConcurrency) return undefined;
    const o = this.opts;
    const envOpts: EnvironmentOptions = {
      id: this.nextEnvId++,
      projectRoot: o.projectRoot,
      functionName: o.name,
      handler: o.handler,
      codeDir: o.codeDir,
      timeoutSeconds: o.timeoutSeconds,
      memoryMb: o.memoryMb,
      environment: o.environment,
      region: o.region,
      maxBufferedResponseBytes: this.limits.bufferedResponseBytes,
      maxStreamedResponseBytes: this.limits.streamedResponseBytes,
      initTimeoutMs: this.limits.initTimeoutMs,
      onLog: o.onLog,
      onEvent: o.onEvent,
    };
    const env = new ExecutionEnvironment(envOpts);
    env.claimed = true;
    this.environments.push(env);
    await env.start();
    return env;
  }
}

/** How often a queued asynchronous event looks for a free environment. */
const EVENT_QUEUE_POLL_MS = 50;

/** Reads the body up to `max` bytes; undefined when it is larger (the rest is drained). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length']);
    const chunks: Buffer[] = [];
    let size = 0;
    let over = Number.isFinite(declared) && declared > max;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) over = true;
      if (!over) chunks.push(c);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on('error', () => resolve(undefined));
  });
}

function sendError(res: ServerResponse, status: number, errorType: string, body: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': errorType });
  res.end(JSON.stringify(body));
}

/** What a function URL answers when the function failed (error, timeout, crash): 502. */
function sendFunctionError(res: ServerResponse, error: FunctionError, log: (line: string) => void): void {
  log(`function URL answers 502: ${error.errorType}: ${error.errorMessage}`);
  sendError(res, 502, error.errorType, { Message: 'Internal Server Error' });
}

function writeHead(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  cookies: string[],
  cors: Record<string, string>,
): void {
  const out: Record<string, string | string[]> = { ...headers, ...cors };
  if (cookies.length > 0) out['set-cookie'] = cookies;
  res.writeHead(status, out);
}

function bufferedSink(res: ServerResponse, cors: Record<string, string>, log: (line: string) => void) {
  const streamed: Buffer[] = [];
  return {
    result(payload: Buffer) {
      let value: unknown;
      try {
        value = payload.length === 0 ? undefined : JSON.parse(payload.toString('utf8'));
      } catch {
        return sendFunctionError(
          res,
          { errorType: 'Runtime.InvalidResponse', errorMessage: 'the response is not JSON' },
          log,
        );
      }
      const r = fromBufferedResult(value);
      writeHead(res, r.statusCode, r.headers, r.cookies, cors);
      res.end(r.body);
    },
    fail: (error: FunctionError) => sendFunctionError(res, error, log),
    // A streaming handler behind a BUFFERED URL: Lambda collects the stream and answers once.
    streamStart() {},
    streamChunk(chunk: Buffer) {
      streamed.push(chunk);
    },
    streamEnd(error?: FunctionError) {
      if (error) return sendFunctionError(res, error, log);
      const decoder = new PreludeDecoder();
      const events = decoder.push(Buffer.concat(streamed));
      const prelude = events.find((e) => e.type === 'prelude');
      const bodyChunks = events.flatMap((e) => (e.type === 'body' ? [e.chunk] : []));
      writeHead(
        res,
        prelude?.prelude.statusCode ?? 200,
        prelude?.prelude.headers ?? {},
        prelude?.prelude.cookies ?? [],
        cors,
      );
      res.end(Buffer.concat(bodyChunks));
    },
  };
}

function streamingSink(res: ServerResponse, cors: Record<string, string>, log: (line: string) => void) {
  let decoder: PreludeDecoder | undefined;
  let contentType = 'application/octet-stream';
  let received = 0;
  // A client that hung up is not told to the function (no signal reaches it on Lambda either):
  // the stream is read to its end and dropped.
  const write = (chunk: Buffer) => {
    if (!res.destroyed) res.write(chunk);
  };
  return {
    streamStart(type: string) {
      contentType = type;
      if (type.split(';')[0]!.trim() === HTTP_INTEGRATION_CONTENT_TYPE) decoder = new PreludeDecoder();
    },
    streamChunk(chunk: Buffer) {
      received += chunk.length;
      if (!decoder) {
        if (!res.headersSent) writeHead(res, 200, { 'content-type': contentType }, [], cors);
        return write(chunk);
      }
      let events: ReturnType<PreludeDecoder['push']>;
      try {
        events = decoder.push(chunk);
      } catch (err) {
        return sendFunctionError(
          res,
          { errorType: 'Runtime.InvalidPrelude', errorMessage: (err as Error).message },
          log,
        );
      }
      for (const e of events) {
        if (e.type === 'prelude')
          writeHead(res, e.prelude.statusCode, e.prelude.headers, e.prelude.cookies, cors);
        else write(e.chunk);
      }
    },
    streamEnd(error?: FunctionError) {
      if (error) {
        log(`streamed response failed after ${received} bytes: ${error.errorType}: ${error.errorMessage}`);
        // Before the first byte the URL can still say 502; after it, only the connection can tell.
        if (!res.headersSent) return sendFunctionError(res, error, log);
        res.destroy();
        return;
      }
      if (!res.headersSent) {
        if (decoder && !decoder.done && received > 0) {
          // Bytes but no prelude delimiter: Lambda cannot read the response.
          return sendFunctionError(
            res,
            { errorType: 'Runtime.InvalidPrelude', errorMessage: 'the stream ended inside its prelude' },
            log,
          );
        }
        // Ended without a single write: the prelude was never sent, so Lambda answers a bare 200
        // (RIC issue #97); the status and headers the handler set are lost.
        writeHead(res, 200, decoder ? {} : { 'content-type': contentType }, [], cors);
      }
      res.end();
    },
    fail: (error: FunctionError) => sendFunctionError(res, error, log),
    result(payload: Buffer) {
      // A non-streaming handler behind a RESPONSE_STREAM URL: its result is the whole response.
      bufferedSink(res, cors, log).result(payload);
    },
  };
}
