// Lambda function URL <-> HttpRequest/HttpResponse. The only place that knows Lambda types.
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
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
  on(event: 'close', cb: () => void): unknown;
  on(event: 'error', cb: (err: unknown) => void): unknown;
  once?(event: 'drain', cb: () => void): unknown;
}

export interface AwsLambdaGlobal {
  streamifyResponse<E>(
    fn: (event: E, responseStream: LambdaResponseStream, context: unknown) => Promise<void>,
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

/** Writes an HttpResponse to a Lambda response stream, chunk by chunk, as it is produced. */
export async function writeToResponseStream(
  awslambda: AwsLambdaGlobal,
  raw: LambdaResponseStream,
  response: HttpResponse,
  signal: AbortSignal,
): Promise<void> {
  const out = awslambda.HttpResponseStream.from(raw, {
    statusCode: response.status,
    headers: response.headers,
  });
  if (!response.stream) {
    out.write(response.body ?? '');
    out.end();
    return;
  }
  const it = response.stream[Symbol.asyncIterator]();
  try {
    while (!signal.aborted) {
      const r = await it.next();
      if (r.done) break;
      out.write(r.value);
    }
  } finally {
    if (signal.aborted) await it.return?.(undefined);
    out.end();
  }
}
