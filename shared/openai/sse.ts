// Server-sent events as OpenAI-compatible clients (and ElevenLabs) read them.
import type { OpenAIErrorBody } from '../errors';

export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  // Tells reverse proxies (nginx and the like) not to buffer the stream.
  'x-accel-buffering': 'no',
};

export function sseData(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

export const SSE_DONE = 'data: [DONE]\n\n';

/** The error event sent when a stream fails after it started; the stream then ends. */
export function sseError(body: OpenAIErrorBody): string {
  return sseData(body);
}
