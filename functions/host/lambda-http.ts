// Lambda function URL <-> HttpRequest/HttpResponse. The only place that knows Lambda types.
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { clientDisconnected, invocationDeadline } from '../../shared/chat/turn-abort';
import type { HttpRequest, HttpResponse } from '../../shared/http/types';

export function fromFunctionUrlEvent(event: LambdaFunctionURLEvent): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = v;
  const query: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) if (v !== undefined) query[k] = v;
  const raw = event.body ?? '';
  return {
    method: event.requestContext.http.method,
    path: event.rawPath || '/',
    headers,
    query,
    body: Buffer.from(raw, event.isBase64Encoded ? 'base64' : 'utf8'),
    sourceIp: event.requestContext.http.sourceIp,
  };
}

/** For buffered function URLs. Streams (never expected there) are drained into the body. */
export async function toFunctionUrlResult(response: HttpResponse): Promise<LambdaFunctionURLResult> {
  let body = response.body ?? '';
  if (response.stream) for await (const chunk of response.stream) body += chunk;
  return { statusCode: response.status, headers: response.headers, body };
}

/** The writable stream Lambda hands a RESPONSE_STREAM handler (awslambda.HttpResponseStream). */
export interface LambdaResponseStream {
  write(chunk: string): boolean;
  end(): void;
  on(event: 'close' | 'drain', cb: () => void): unknown;
  on(event: 'error', cb: (err: unknown) => void): unknown;
  off?(event: 'close' | 'error' | 'drain', cb: () => void): unknown;
  once?(event: 'drain', cb: () => void): unknown;
  /** Node Writable state: set once the stream was destroyed (errored, or closed under us). */
  readonly destroyed?: boolean;
  readonly writableEnded?: boolean;
}

/** The part of the Lambda context a streamed turn uses. */
export interface LambdaInvocationContext {
  getRemainingTimeInMillis?(): number;
}

export interface AwsLambdaGlobal {
  streamifyResponse<E>(
    fn: (event: E, responseStream: LambdaResponseStream, context: LambdaInvocationContext) => Promise<void>,
  ): unknown;
  HttpResponseStream: {
    from(
      stream: LambdaResponseStream,
      meta: { statusCode: number; headers: Record<string, string> },
    ): LambdaResponseStream;
  };
}

/** Errors the runtime's own response stream raised (its connection to the Runtime API broke). */
const runtimeStreamErrors = new WeakSet<object>();
let unhandledHook = false;

/**
 * Keeps a broken runtime connection from ending the process. When the runtime client's
 * connection to the Runtime API breaks mid-stream, it rejects a promise of its own that it only
 * awaits after the handler returns; Node treats that as an unhandled rejection and exits, so the
 * turn's record is lost and the next turn pays a cold start (Runtime.ExitError). The error is the
 * same object the stream emits as 'error', so exactly those are let go; any other unhandled
 * rejection still ends the process, as the runtime intends.
 */
export function tolerateRuntimeStreamErrors(
  stream: LambdaResponseStream,
  onError: (err: unknown) => void,
): void {
  if (!unhandledHook) {
    unhandledHook = true;
    process.on('unhandledRejection', (reason) => {
      if (typeof reason === 'object' && reason !== null && runtimeStreamErrors.has(reason)) return;
      throw reason;
    });
  }
  stream.on('error', (err) => {
    if (typeof err === 'object' && err !== null) runtimeStreamErrors.add(err);
    onError(err);
  });
}

/**
 * How long before the function's time limit a turn is stopped: enough to abort the upstream,
 * write the SSE error event and end the stream, so the client gets an answer instead of a cut.
 */
export const DEADLINE_MARGIN_MS = 1500;

export interface WatchedInvocation {
  /** The turn's signal: aborted when the client is seen to go, or shortly before the deadline. */
  signal: AbortSignal;
  /** The stream refused a write: the client is gone. */
  clientGone(): void;
  /** Whether writing more is pointless. */
  readonly sinkGone: boolean;
  dispose(): void;
}

/**
 * Everything a streaming function can observe of its client going away, as one signal: the
 * response stream's 'close' before we ended it, its 'error', a write that throws; and its own
 * invocation deadline. On AWS a function URL client that hangs up produces none of the first
 * three (aws-lambda-nodejs-runtime-interface-client issue #145): there, only the deadline fires.
 */
export function watchInvocation(
  raw: LambdaResponseStream,
  context: LambdaInvocationContext | undefined,
  marginMs = DEADLINE_MARGIN_MS,
): WatchedInvocation {
  const ctrl = new AbortController();
  let sinkGone = false;
  const gone = () => {
    sinkGone = true;
    if (!ctrl.signal.aborted) ctrl.abort(clientDisconnected());
  };
  const onClose = () => {
    if (!raw.writableEnded) gone();
  };
  raw.on('close', onClose);
  raw.on('error', gone);
  const remaining = context?.getRemainingTimeInMillis?.();
  const timer =
    remaining === undefined
      ? undefined
      : setTimeout(
          () => {
            if (!ctrl.signal.aborted) ctrl.abort(invocationDeadline(marginMs));
          },
          Math.max(0, remaining - marginMs),
        );
  return {
    signal: ctrl.signal,
    clientGone: gone,
    get sinkGone() {
      return sinkGone || raw.destroyed === true;
    },
    dispose() {
      clearTimeout(timer);
      raw.off?.('close', onClose);
      raw.off?.('error', gone);
    },
  };
}

/** Writes an HttpResponse to a Lambda response stream, chunk by chunk, as it is produced. */
export async function writeToResponseStream(
  awslambda: AwsLambdaGlobal,
  raw: LambdaResponseStream,
  response: HttpResponse,
  invocation: WatchedInvocation,
): Promise<void> {
  const out = awslambda.HttpResponseStream.from(raw, {
    statusCode: response.status,
    headers: response.headers,
  });
  const write = (chunk: string): boolean => {
    try {
      return out.write(chunk);
    } catch {
      // A destroyed or ended stream throws (ERR_STREAM_DESTROYED): nobody reads any more.
      invocation.clientGone();
      return true;
    }
  };
  const end = () => {
    try {
      out.end();
    } catch {
      // Already destroyed: nothing to end.
    }
  };
  if (!response.stream) {
    write(response.body ?? '');
    end();
    return;
  }
  const it = response.stream[Symbol.asyncIterator]();
  let finished = false;
  try {
    // The handler ends the stream itself when the signal aborts (with an error event at the
    // deadline); these checks only stop writing into a stream that is gone.
    while (!invocation.sinkGone) {
      const r = await it.next();
      if (r.done) {
        finished = true;
        break;
      }
      if (!write(r.value) && !invocation.sinkGone) await drained(out);
    }
  } finally {
    if (!finished) await it.return?.(undefined);
    end();
  }
}

/** Resolves when a full stream drains, or when it closes or errors instead. */
function drained(out: LambdaResponseStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off?.('drain', done);
      out.off?.('close', done);
      out.off?.('error', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
    out.on('error', done);
  });
}
