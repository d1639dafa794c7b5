// Starts the real chat app behind the real local host on a loopback port, for tests and benches.
import { type ChatApp, type ChatAppOptions, createChatApp, warmRouteProviders } from '../../shared/chat/app';
import type { TurnRecord } from '../../shared/chat/turn-record';
import { loadConfig } from '../../shared/config';
import type { Env } from '../../shared/env-vars';
import { silentLogger } from '../../shared/observability/log';
import { serveOnLoopback } from './serve';

export interface RunningChatServer {
  url: string;
  app: ChatApp;
  turns: TurnRecord[];
  close(): Promise<void>;
}

export async function startChatServer(
  env: Env,
  opts: Omit<ChatAppOptions, 'config' | 'log'> = {},
): Promise<RunningChatServer> {
  const config = loadConfig({ PORT: '0', ...env });
  const turns: TurnRecord[] = [];
  const app = createChatApp({
    ...opts,
    config,
    log: silentLogger,
    onTurnEnd: (r) => {
      turns.push(r);
      opts.onTurnEnd?.(r);
    },
  });
  // As the deployed function does at cold start: a lazily loaded SDK must not eat into a test's
  // first-byte timeout on a loaded machine.
  await warmRouteProviders(app, config);
  const served = await serveOnLoopback(app.handler, {
    maxBodyBytes: config.maxBodyBytes,
    bodyReadTimeoutMs: config.bodyReadTimeoutMs,
  });
  return { url: served.url, app, turns, close: served.close };
}

/** Reads a whole SSE response as raw text (to check framing the SDK would hide). */
export async function rawPost(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** The JSON payloads of an SSE text, `[DONE]` kept as the string. */
export function sseEvents(text: string): unknown[] {
  return text
    .split('\n\n')
    .filter((f) => f.startsWith('data: '))
    .map((f) => f.slice(6))
    .map((d) => (d === '[DONE]' ? d : JSON.parse(d)));
}
