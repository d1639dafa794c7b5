// Fault-injection rig: the real chat app behind the real node host, a fake OpenAI upstream as
// the primary and a fake Anthropic upstream as the fallback, the circuit breaker on a control
// table in the embedded DynamoDB, and consumers with a hard client-side deadline.
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import OpenAI from 'openai';
import { composeChat } from '../../../functions/chat/compose';
import { createTables, type Emulators } from '../../../infra/local/emulators';
import type { BreakerSnapshotSource, ChatApp, HealthReport } from '../../../shared/chat/app';
import type { TurnRecord } from '../../../shared/chat/turn-record';
import { loadConfig } from '../../../shared/config';
import type { Env } from '../../../shared/env-vars';
import { createLogger } from '../../../shared/observability/log';
import { CircuitBreaker } from '../../../shared/routing/breaker';
import type { Admission, BreakerLike } from '../../../shared/routing/breaker-types';
import { type FakeAnthropicServer, startAnthropicServer } from '../../fakes/anthropic-server';
import { type FakeOpenAIServer, openaiChunks, startOpenAIServer } from '../../fakes/openai-server';
import { type Responder, toSseFrame } from '../../fakes/scripted-server';
import { serveOnLoopback } from '../../helpers/serve';

export const CHAT_KEY = 'resilience-chat-key';
/** The primary (OpenAI) and fallback (Anthropic) of the `gpt-4o` route. */
export const PRIMARY = 'openai:gpt-4o';
export const FALLBACK = 'anthropic:claude-x';
/** First-byte timeout of every route here: short, so a hang costs a fraction of a second. */
export const FIRST_BYTE_TIMEOUT_MS = 300;
/** What each upstream answers by default; the client can tell who answered. */
export const OPENAI_ANSWER = ['Primary', ' says', ' hi.'];
export const ANTHROPIC_ANSWER = ['Fallback', ' says', ' hi.'];

/**
 * `gpt-4o`: OpenAI first, Anthropic second. `claude`: the other way round. `solo`: OpenAI only,
 * to see what a client gets when there is nothing to fail over to.
 */
export const ROUTES = JSON.stringify({
  'gpt-4o': { targets: [PRIMARY, FALLBACK], firstByteTimeoutMs: FIRST_BYTE_TIMEOUT_MS },
  claude: { targets: [FALLBACK, PRIMARY], firstByteTimeoutMs: FIRST_BYTE_TIMEOUT_MS },
  solo: { targets: [PRIMARY], firstByteTimeoutMs: FIRST_BYTE_TIMEOUT_MS },
});

export interface Upstreams {
  openai: FakeOpenAIServer;
  anthropic: FakeAnthropicServer;
  close(): Promise<void>;
}

export async function startUpstreams(): Promise<Upstreams> {
  const [openai, anthropic] = await Promise.all([
    startOpenAIServer({ reply: OPENAI_ANSWER }),
    startAnthropicServer({ reply: ANTHROPIC_ANSWER }),
  ]);
  return {
    openai,
    anthropic,
    close: async () => {
      await Promise.all([openai.close(), anthropic.close()]);
    },
  };
}

/** The environment of a chat function whose routes reach the fakes. */
export function chatEnv(up: Upstreams, extra: Env = {}): Env {
  return {
    PORT: '0',
    CHAT_API_KEY: CHAT_KEY,
    OPENAI_API_KEY: 'sk-fake-primary',
    OPENAI_BASE_URL: `${up.openai.url}/v1`,
    ANTHROPIC_API_KEY: 'sk-ant-fake-fallback',
    ANTHROPIC_BASE_URL: up.anthropic.url,
    MODEL_ROUTES: ROUTES,
    ...extra,
  };
}

let tableSeq = 0;
/** A control table of its own for one test, so no breaker state leaks between tests. */
export async function createControlTable(emu: Emulators, label: string): Promise<string> {
  tableSeq += 1;
  const name = `control-${label}-${tableSeq}`;
  await createTables(emu, [name]);
  return name;
}

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../helpers/dynamo';

export { documentClient };

/** A breaker on a control table of its own for one test, recording every call the server makes. */
export async function recordingBreaker(emu: Emulators, label: string): Promise<RecordingBreaker> {
  const tableName = await createControlTable(emu, label);
  return new RecordingBreaker(new CircuitBreaker({ client: documentClient(emu), tableName, log: () => {} }));
}

export interface BreakerCall {
  kind: 'failure' | 'success';
  target: string;
  errorClass?: string;
}

/**
 * The real CircuitBreaker, passed through unchanged (the same Admission objects), with every
 * outcome it is told about written down. The chat path reports outcomes without awaiting them;
 * `settled()` waits for those writes so assertions on the table never race them.
 */
export class RecordingBreaker implements BreakerLike, BreakerSnapshotSource {
  readonly calls: BreakerCall[] = [];
  private readonly pending = new Set<Promise<void>>();

  constructor(readonly inner: CircuitBreaker) {}

  admit(target: string): Promise<Admission> {
    return this.inner.admit(target);
  }

  recordSuccess(target: string, admission: Admission): Promise<void> {
    this.calls.push({ kind: 'success', target });
    return this.track(this.inner.recordSuccess(target, admission));
  }

  recordFailure(target: string, admission: Admission, errorClass: string): Promise<void> {
    this.calls.push({ kind: 'failure', target, errorClass });
    return this.track(this.inner.recordFailure(target, admission, errorClass));
  }

  snapshot(targets: string[]) {
    return this.inner.snapshot(targets);
  }

  failuresOf(target: string): string[] {
    return this.calls.filter((c) => c.kind === 'failure' && c.target === target).map((c) => c.errorClass!);
  }

  successesOf(target: string): number {
    return this.calls.filter((c) => c.kind === 'success' && c.target === target).length;
  }

  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private track(p: Promise<void>): Promise<void> {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
    return p;
  }
}

export type LogLine = { level: string; msg: string } & Record<string, unknown>;

export interface RunningService {
  url: string;
  app: ChatApp;
  /** Turn records, from the service's own `turn` log lines. */
  turns: TurnRecord[];
  /** Every log line the service wrote, parsed. */
  lines: LogLine[];
  close(): Promise<void>;
}

/**
 * The chat function's composition root (composeChat: config, CircuitBreaker and budgets
 * on CONTROL_TABLE) behind the node host. Turn records are read back from its log.
 */
export async function startChatService(
  env: Env,
  documentClientForTable: DynamoDBDocumentClient,
): Promise<RunningService> {
  const config = loadConfig(env);
  const turns: TurnRecord[] = [];
  const lines: LogLine[] = [];
  const log = createLogger('info', {}, (line) => {
    const entry = JSON.parse(line) as LogLine;
    lines.push(entry);
    if (entry.msg === 'turn') turns.push(entry as unknown as TurnRecord);
  });
  const app = await composeChat(config, log, {
    documentClient: documentClientForTable,
    withoutImages: true,
    writeMetrics: () => {},
  });
  const served = await serveOnLoopback(app.handler, { maxBodyBytes: config.maxBodyBytes, log });
  return { url: served.url, app, turns, lines, close: served.close };
}

/** The hard deadline every consumer request runs under; a test that reaches it has found a hang. */
export const CLIENT_DEADLINE_MS = 4000;

export function openaiClient(baseUrl: string): OpenAI {
  return new OpenAI({
    apiKey: CHAT_KEY,
    baseURL: `${baseUrl}/v1`,
    maxRetries: 0,
    timeout: CLIENT_DEADLINE_MS,
  });
}

export const userTurn = (model: string, content = 'What do you see?') => ({
  model,
  messages: [{ role: 'user' as const, content }],
});

export interface StreamedTurn {
  text: string;
  chunks: OpenAI.Chat.Completions.ChatCompletionChunk[];
  /** What the SDK threw while reading (an SSE error event surfaces as an APIError). */
  error?: unknown;
  ms: number;
}

/** Streams one turn through the official client under the hard deadline, collecting what arrives. */
export async function streamTurn(client: OpenAI, model: string): Promise<StreamedTurn> {
  const started = performance.now();
  const signal = AbortSignal.timeout(CLIENT_DEADLINE_MS);
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  let error: unknown;
  try {
    const stream = await client.chat.completions.create({ ...userTurn(model), stream: true }, { signal });
    for await (const c of stream) chunks.push(c);
  } catch (err) {
    error = err;
  }
  const ms = performance.now() - started;
  if (signal.aborted) throw new Error(`the client deadline of ${CLIENT_DEADLINE_MS} ms was reached: a hang`);
  return { text: chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), chunks, error, ms };
}

export interface RawTurn {
  status: number;
  contentType: string;
  text: string;
  ms: number;
}

/** Posts one turn with fetch under the hard deadline and reads the whole body, for framing checks. */
export async function rawTurn(baseUrl: string, body: Record<string, unknown>): Promise<RawTurn> {
  const started = performance.now();
  const signal = AbortSignal.timeout(CLIENT_DEADLINE_MS);
  try {
    const res = await fetch(`${baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${CHAT_KEY}` },
      body: JSON.stringify(body),
      signal,
    });
    const text = await res.text();
    return {
      status: res.status,
      contentType: res.headers.get('content-type') ?? '',
      text,
      ms: performance.now() - started,
    };
  } catch (err) {
    if (signal.aborted)
      throw new Error(`the client deadline of ${CLIENT_DEADLINE_MS} ms was reached: a hang`);
    throw err;
  }
}

export type SseFrame = { kind: 'done' } | { kind: 'data'; json: Record<string, unknown> };

/**
 * Splits an SSE body into frames and checks the framing on the way: every frame is one
 * `data: ` line ending in a blank line, its payload is JSON or `[DONE]`, and nothing trails.
 */
export function parseSseStrict(text: string): SseFrame[] {
  if (!text.endsWith('\n\n'))
    throw new Error(`the stream does not end on a frame boundary: ${JSON.stringify(text.slice(-80))}`);
  return text
    .slice(0, -2)
    .split('\n\n')
    .map((frame) => {
      if (!frame.startsWith('data: ') || frame.includes('\n'))
        throw new Error(`not an SSE data frame: ${frame}`);
      const payload = frame.slice(6);
      if (payload === '[DONE]') return { kind: 'done' } as const;
      return { kind: 'data', json: JSON.parse(payload) as Record<string, unknown> } as const;
    });
}

export interface OpenAIErrorShape {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** The `error` of an OpenAI error object, after checking it has exactly the four fields. */
export function openaiErrorOf(value: unknown): OpenAIErrorShape {
  const body = value as { error?: Record<string, unknown> };
  expect(Object.keys(body)).toEqual(['error']);
  const err = body.error!;
  expect(Object.keys(err).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(typeof err.message).toBe('string');
  expect(typeof err.type).toBe('string');
  return err as unknown as OpenAIErrorShape;
}

/** What the client sees of a stream that failed after it started: tokens, one error frame, the end. */
export function expectErrorEnding(frames: SseFrame[]): OpenAIErrorShape {
  expect(frames.some((f) => f.kind === 'done')).toBe(false);
  const last = frames.at(-1);
  if (last?.kind !== 'data') throw new Error('the stream has no final error frame');
  const error = openaiErrorOf(last.json);
  for (const f of frames.slice(0, -1)) {
    expect(f.kind === 'data' && f.json.object).toBe('chat.completion.chunk');
  }
  return error;
}

export function contentOf(frames: SseFrame[]): string {
  return frames
    .map((f) => {
      if (f.kind !== 'data') return '';
      const choices = f.json.choices as { delta?: { content?: string } }[] | undefined;
      return choices?.[0]?.delta?.content ?? '';
    })
    .join('');
}

export async function health(baseUrl: string): Promise<HealthReport> {
  const res = await fetch(`${baseUrl}/health`, {
    headers: { authorization: `Bearer ${CHAT_KEY}` },
    signal: AbortSignal.timeout(CLIENT_DEADLINE_MS),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as HealthReport;
}

/** One target's breaker line in /health. */
export async function breakerHealth(baseUrl: string, route: string, target: string) {
  const report = await health(baseUrl);
  const line = report.routes.find((r) => r.name === route)?.targets.find((t) => t.id === target);
  if (!line) throw new Error(`no ${target} in route ${route} of /health`);
  return line;
}

/**
 * Polls until `check` passes or `withinMs` runs out, then fails with the last value. For the
 * breaker writes the chat path makes without awaiting them: the state must arrive, and soon.
 */
export async function eventually<T>(
  read: () => Promise<T>,
  check: (v: T) => boolean,
  withinMs = 2000,
): Promise<T> {
  const until = performance.now() + withinMs;
  let last = await read();
  while (!check(last)) {
    if (performance.now() > until)
      throw new Error(`condition not reached within ${withinMs} ms; last: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    last = await read();
  }
  return last;
}

/** Wraps a responder so each request it answers leaves its arrival time (performance.now) in `times`. */
export function stamped(times: number[], responder: Responder): Responder {
  return (req) => {
    times.push(performance.now());
    return typeof responder === 'function' ? responder(req) : responder;
  };
}

export interface GatedOpenAI {
  /** Base URL (append `/v1` for the SDK). */
  url: string;
  /** Requests received so far. */
  requests: number;
  /** Lets every held answer (and every later one) finish. */
  release(): void;
  close(): Promise<void>;
}

/**
 * An OpenAI upstream that sends the role chunk and the first token at once, then holds the
 * rest of every answer until `release()`: a half-open probe that is still streaming while the
 * other turns race past it, however the scheduler orders them.
 */
export async function startGatedOpenAI(text: readonly string[]): Promise<GatedOpenAI> {
  const frames = openaiChunks({ text }).map(toSseFrame);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const sockets = new Set<Socket>();
  const state = { requests: 0 };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      state.requests += 1;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
      res.write(frames.slice(0, 2).join(''));
      void gate.then(() => res.end(frames.slice(2).join('')));
    });
  });
  server.on('connection', (socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return state.requests;
    },
    release: () => release(),
    close: () =>
      new Promise<void>((resolve) => {
        release();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
