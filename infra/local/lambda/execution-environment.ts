// One Lambda execution environment: a Runtime API server on loopback and AWS's own runtime
// interface client (npm `aws-lambda-ric`, the code of the managed Node.js runtime) in a process
// of its own, running the function's bundle with the template's handler string and environment.
// One invocation at a time, as in Lambda; init runs the module's cold-start code exactly once.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';

/** What the runtime reports about a failed invocation (the body of /error, or the host's own). */
export interface FunctionError {
  errorType: string;
  errorMessage: string;
}

/** Receives one invocation's outcome as the runtime posts it. */
export interface InvocationSink {
  /** A streamed response began (its content type tells whether a prelude leads). */
  streamStart(contentType: string): void;
  streamChunk(chunk: Buffer): void;
  /** The stream ended; with an error when the runtime's trailers carried one, or it broke off. */
  streamEnd(error?: FunctionError): void;
  /** A buffered response's payload (the JSON the handler returned). */
  result(payload: Buffer): void;
  /** The invocation failed before or instead of a response (function error, timeout, crash). */
  fail(error: FunctionError): void;
}

export interface HostEvent {
  at: number;
  fn: string;
  env: number;
  type: 'spawn' | 'init-done' | 'next' | 'invoke' | 'response-end' | 'error' | 'timeout' | 'exit';
  requestId?: string;
}

export interface EnvironmentOptions {
  id: number;
  /** Where node_modules (aws-lambda-ric) is. */
  projectRoot: string;
  functionName: string;
  handler: string;
  codeDir: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** The function's environment, resolved (no process.env is inherited, as in Lambda). */
  environment: Record<string, string>;
  region: string;
  /** Lambda's limit on a buffered response: 6 MB. */
  maxBufferedResponseBytes: number;
  /** Lambda's limit on a streamed response. */
  maxStreamedResponseBytes: number;
  /** Lambda gives init 10 s before it gives up on the environment. */
  initTimeoutMs: number;
  onLog(line: string): void;
  onEvent(e: HostEvent): void;
}

export const RUNTIME_API_PREFIX = '/2018-06-01/runtime';

/**
 * Every runtime process still running. A frozen (stopped) process would outlive a host that
 * exits without closing its environments, so the host's exit takes them along.
 */
const running = new Set<ChildProcess>();
let exitHook = false;
function track(child: ChildProcess): void {
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/** The runtime interface client's entry (its bin): the same file the managed runtime starts. */
export function ricEntry(projectRoot: string): string {
  const resolve = createRequire(join(projectRoot, 'package.json')).resolve;
  return join(dirname(resolve('aws-lambda-ric/package.json')), 'index.mjs');
}

interface Pending {
  id: string;
  payload: string;
  sink: InvocationSink;
}

interface Active extends Pending {
  timer: NodeJS.Timeout;
  startedAt: number;
  /** The runtime's open /response request, while it streams. */
  responseRequest?: IncomingMessage;
  done: boolean;
}

export class ExecutionEnvironment {
  state: 'init' | 'idle' | 'busy' | 'dead' = 'init';
  readonly spawnedAt = performance.now();
  initDoneAt: number | undefined;
  invocations = 0;
  /** Taken by a request that will invoke it (the front's pool bookkeeping). */
  claimed = false;
  private server: Server | undefined;
  private child: ChildProcess | undefined;
  private waitingNext: ServerResponse | undefined;
  private queued: Pending | undefined;
  private active: Active | undefined;
  private initTimer: NodeJS.Timeout | undefined;
  private frozen = false;

  constructor(private readonly opts: EnvironmentOptions) {}

  get id(): number {
    return this.opts.id;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => this.route(req, res));
    server.keepAliveTimeout = 0;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    const { port } = server.address() as AddressInfo;
    const o = this.opts;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      LAMBDA_TASK_ROOT: o.codeDir,
      LAMBDA_RUNTIME_DIR: dirname(ricEntry(o.projectRoot)),
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      AWS_LAMBDA_FUNCTION_NAME: o.functionName,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(o.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${o.functionName}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `local/[$LATEST]${randomUUID().replace(/-/g, '')}`,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_REGION: o.region,
      AWS_DEFAULT_REGION: o.region,
      ...o.environment,
      // Set last: the function's environment cannot move the runtime off this host.
      AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}`,
      _HANDLER: o.handler,
    };
    // Lambda sizes the heap from the memory setting; a local process gets the same ceiling.
    const heapMb = Math.floor(o.memoryMb * 0.9);
    const child = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, ricEntry(o.projectRoot)], {
      cwd: o.codeDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    track(child);
    this.event('spawn');
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream?.setEncoding('utf8').on('data', (text: string) => {
        const lines = (partial + text).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (line !== '') o.onLog(line);
      });
    }
    child.on('exit', (code, signal) => this.exited(code, signal));
    this.initTimer = setTimeout(() => {
      this.fail(this.queued ?? this.active, {
        errorType: 'Sandbox.Timedout',
        errorMessage: `INIT: the function's init did not finish within ${o.initTimeoutMs} ms`,
      });
      this.kill();
    }, o.initTimeoutMs);
  }

  /** Queues the invocation; the runtime takes it with its next GET /invocation/next. */
  invoke(event: unknown, sink: InvocationSink): string {
    if (this.state === 'dead') throw new Error('the execution environment is gone');
    if (this.queued || this.active) throw new Error('the execution environment is busy');
    const id = randomUUID();
    this.queued = { id, payload: JSON.stringify(event), sink };
    if (this.state === 'idle') this.state = 'busy';
    if (this.frozen) {
      this.child?.kill('SIGCONT');
      this.frozen = false;
    }
    if (this.waitingNext) this.handOut(this.waitingNext);
    return id;
  }

  /** Fault injection: cuts the runtime's response connection mid-stream, as a broken network would. */
  cutResponseConnection(): boolean {
    const req = this.active?.responseRequest;
    if (!req) return false;
    req.socket.destroy();
    return true;
  }

  kill(): void {
    if (this.state === 'dead') return;
    this.state = 'dead';
    clearTimeout(this.initTimer);
    if (this.active) clearTimeout(this.active.timer);
    this.child?.kill('SIGKILL');
    this.waitingNext?.destroy();
    this.server?.closeAllConnections();
    this.server?.close();
  }

  private event(type: HostEvent['type'], requestId?: string): void {
    this.opts.onEvent({
      at: performance.now(),
      fn: this.opts.functionName,
      env: this.opts.id,
      type,
      ...(requestId ? { requestId } : {}),
    });
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '';
    const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
    if (req.method === 'GET' && path === `${RUNTIME_API_PREFIX}/invocation/next`) this.next(res);
    else if (req.method === 'POST' && path === `${RUNTIME_API_PREFIX}/init/error`) this.initError(req, res);
    else if (req.method === 'POST' && m) {
      const id = decodeURIComponent(m[1]!);
      const inv = this.active;
      if (!inv || inv.id !== id || inv.done) {
        req.resume();
        json(res, 400, { errorMessage: `Invalid request ID: ${id}`, errorType: 'InvalidRequestID' });
      } else if (m[2] === 'error') this.invocationError(inv, req, res);
      else this.response(inv, req, res);
    } else {
      req.resume();
      json(res, 404, {
        errorMessage: `unknown Runtime API path ${req.method} ${path}`,
        errorType: 'NotFound',
      });
    }
  }

  private next(res: ServerResponse): void {
    if (this.initDoneAt === undefined) {
      this.initDoneAt = performance.now();
      clearTimeout(this.initTimer);
      this.event('init-done');
    }
    this.event('next');
    // The runtime asks for more only when it has finished the last one.
    if (this.active)
      this.finish(this.active, { errorType: 'Runtime.Unfinished', errorMessage: 'the runtime moved on' });
    if (this.state === 'init') this.state = this.queued ? 'busy' : 'idle';
    if (this.queued) this.handOut(res);
    else {
      this.waitingNext = res;
      // Lambda freezes the environment while the runtime waits for an event: its timers and
      // background work stand still until the next invocation thaws it.
      this.child?.kill('SIGSTOP');
      this.frozen = true;
    }
  }

  private handOut(res: ServerResponse): void {
    const inv = this.queued!;
    this.queued = undefined;
    this.waitingNext = undefined;
    this.state = 'busy';
    this.invocations++;
    const timeoutMs = this.opts.timeoutSeconds * 1000;
    const deadline = Date.now() + timeoutMs;
    const timer = setTimeout(() => this.timedOut(), timeoutMs);
    this.active = { ...inv, timer, startedAt: performance.now(), done: false };
    this.event('invoke', inv.id);
    res.writeHead(200, {
      'content-type': 'application/json',
      'lambda-runtime-aws-request-id': inv.id,
      'lambda-runtime-deadline-ms': String(deadline),
      'lambda-runtime-invoked-function-arn': `arn:aws:lambda:${this.opts.region}:000000000000:function:${this.opts.functionName}`,
      'lambda-runtime-trace-id': `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${inv.id.replace(/-/g, '').slice(0, 24)};Sampled=0`,
    });
    res.end(inv.payload);
  }

  private response(inv: Active, req: IncomingMessage, res: ServerResponse): void {
    const streaming =
      String(req.headers['lambda-runtime-function-response-mode'] ?? '').toLowerCase() === 'streaming';
    if (!streaming) {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > this.opts.maxBufferedResponseBytes) tooLarge = true;
        else chunks.push(c);
      });
      req.on('end', () => {
        if (tooLarge) {
          json(res, 413, {
            errorMessage: `Exceeded maximum allowed payload size (${this.opts.maxBufferedResponseBytes} bytes).`,
            errorType: 'RequestEntityTooLarge',
          });
          this.finish(inv, {
            errorType: 'Function.ResponseSizeTooLarge',
            errorMessage: `Response payload size (${size} bytes) exceeded maximum allowed payload size (${this.opts.maxBufferedResponseBytes} bytes).`,
          });
          return;
        }
        json(res, 202, { status: 'OK' });
        if (!inv.done) {
          inv.done = true;
          clearTimeout(inv.timer);
          inv.sink.result(Buffer.concat(chunks));
          this.settled(inv);
        }
      });
      return;
    }
    inv.responseRequest = req;
    inv.sink.streamStart(String(req.headers['content-type'] ?? 'application/octet-stream'));
    let size = 0;
    req.on('data', (c: Buffer) => {
      if (inv.done) return;
      size += c.length;
      if (size > this.opts.maxStreamedResponseBytes) {
        this.finish(inv, {
          errorType: 'Function.ResponseSizeTooLarge',
          errorMessage: `Response payload size exceeded maximum allowed payload size (${this.opts.maxStreamedResponseBytes} bytes).`,
        });
        req.socket.destroy();
        return;
      }
      inv.sink.streamChunk(c);
    });
    req.on('end', () => {
      const type = req.trailers['lambda-runtime-function-error-type'];
      const body = req.trailers['lambda-runtime-function-error-body'];
      json(res, 202, { status: 'OK' });
      if (inv.done) return;
      inv.done = true;
      clearTimeout(inv.timer);
      inv.sink.streamEnd(type ? { errorType: type, errorMessage: decodeErrorBody(body) } : undefined);
      this.settled(inv);
    });
    req.on('close', () => {
      if (!req.complete)
        this.finish(inv, {
          errorType: 'Runtime.StreamAborted',
          errorMessage: "the runtime's response stream broke off",
        });
    });
  }

  private invocationError(inv: Active, req: IncomingMessage, res: ServerResponse): void {
    readAll(req).then((body) => {
      json(res, 202, { status: 'OK' });
      this.finish(inv, parseFunctionError(body, req.headers['lambda-runtime-function-error-type']));
    });
  }

  private initError(req: IncomingMessage, res: ServerResponse): void {
    readAll(req).then((body) => {
      json(res, 202, { status: 'OK' });
      const error = parseFunctionError(body, req.headers['lambda-runtime-function-error-type']);
      this.opts.onLog(`INIT_REPORT Status: error Error Type: ${error.errorType}`);
      this.fail(this.queued, error);
      this.queued = undefined;
      this.kill();
    });
  }

  /** Ends an invocation with an error (once), and reports it to its sink. */
  private finish(inv: Active, error: FunctionError): void {
    if (inv.done) return;
    inv.done = true;
    clearTimeout(inv.timer);
    this.event('error', inv.id);
    if (inv.responseRequest) inv.sink.streamEnd(error);
    else inv.sink.fail(error);
    this.settled(inv);
  }

  private settled(inv: Active): void {
    this.event('response-end', inv.id);
    const ms = performance.now() - inv.startedAt;
    const init =
      this.invocations === 1 && this.initDoneAt !== undefined
        ? `\tInit Duration: ${(this.initDoneAt - this.spawnedAt).toFixed(2)} ms`
        : '';
    this.opts.onLog(
      `REPORT RequestId: ${inv.id}\tDuration: ${ms.toFixed(2)} ms\tMemory Size: ${this.opts.memoryMb} MB${init}`,
    );
    if (this.active === inv) this.active = undefined;
    if (this.state === 'busy' && !this.queued) {
      this.state = 'idle';
      this.claimed = false;
    }
  }

  private fail(inv: Pending | undefined, error: FunctionError): void {
    if (!inv) return;
    if ('done' in inv) this.finish(inv as Active, error);
    else inv.sink.fail(error);
  }

  private timedOut(): void {
    const inv = this.active;
    if (!inv) return;
    this.event('timeout', inv.id);
    this.opts.onLog(
      `${new Date().toISOString()} ${inv.id} Task timed out after ${this.opts.timeoutSeconds.toFixed(2)} seconds`,
    );
    this.finish(inv, {
      errorType: 'Sandbox.Timedout',
      errorMessage: `Task timed out after ${this.opts.timeoutSeconds.toFixed(2)} seconds`,
    });
    // Lambda resets the environment after a timeout: the next request starts a fresh one.
    this.kill();
  }

  private exited(code: number | null, signal: NodeJS.Signals | null): void {
    this.event('exit');
    const why = signal ? `signal: ${signal}` : `exit status ${code}`;
    const error = { errorType: 'Runtime.ExitError', errorMessage: `Runtime exited with error: ${why}` };
    if (this.state !== 'dead')
      this.opts.onLog(`RequestId: ${this.active?.id ?? '-'} Error: ${error.errorMessage}`);
    if (this.active) this.finish(this.active, error);
    if (this.queued) {
      this.queued.sink.fail(error);
      this.queued = undefined;
    }
    this.kill();
  }
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve(Buffer.concat(chunks)));
  });
}

function parseFunctionError(body: Buffer, typeHeader: string | string[] | undefined): FunctionError {
  try {
    const e = JSON.parse(body.toString('utf8')) as { errorType?: string; errorMessage?: string };
    return { errorType: e.errorType ?? String(typeHeader ?? 'Unknown'), errorMessage: e.errorMessage ?? '' };
  } catch {
    return { errorType: String(typeHeader ?? 'Unknown'), errorMessage: body.toString('utf8') };
  }
}

/** The error trailer's body: base64 of the runtime's error JSON. */
function decodeErrorBody(body: string | undefined): string {
  if (!body) return '';
  try {
    const e = JSON.parse(Buffer.from(body, 'base64').toString('utf8')) as { errorMessage?: string };
    return e.errorMessage ?? '';
  } catch {
    return body;
  }
}
