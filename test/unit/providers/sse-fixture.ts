// Test helper: reads a provider's SSE stream fixture (test/fixtures/<provider>/<name>.sse) and
// replays it as the event objects its stream translator consumes (ping and error frames
// included, as on the wire).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { AnthropicStreamEvent } from '../../../shared/providers/anthropic/stream';
import type { StreamEvent } from '../../../shared/providers/types';

const FIXTURES = join(__dirname, '../../fixtures');

/** The raw wire text of `test/fixtures/<provider>/<name>.sse` (Anthropic's by default). */
export function fixtureText(name: string, provider: 'anthropic' | 'openai' = 'anthropic'): string {
  return readFileSync(join(FIXTURES, provider, `${name}.sse`), 'utf8');
}

/** Line-by-line SSE parsing: a blank line ends an event; `data:` lines join with "\n". */
export function parseSse(text: string): Array<{ event: string | null; data: string }> {
  const out: Array<{ event: string | null; data: string }> = [];
  let event: string | null = null;
  let data: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line === '') {
      if (data.length > 0) out.push({ event, data: data.join('\n') });
      event = null;
      data = [];
    } else if (line.startsWith('event:')) {
      event = line.slice(6).trim();
    } else if (line.startsWith('data:')) {
      data.push(line.slice(5).replace(/^ /, ''));
    }
  }
  return out;
}

export function fixtureEvents(name: string): AnthropicStreamEvent[] {
  return parseSse(fixtureText(name)).map((frame) => JSON.parse(frame.data) as AnthropicStreamEvent);
}

/** The `data:` payloads of an OpenAI-format stream fixture as chunks, `[DONE]` left out. */
export function openaiFixtureChunks(name: string): ChatCompletionChunk[] {
  return parseSse(fixtureText(name, 'openai'))
    .filter((frame) => frame.data !== '[DONE]')
    .map((frame) => JSON.parse(frame.data) as ChatCompletionChunk);
}

/** Joins each tool call's argument fragments, keyed by tool index. */
export function argumentsByTool(events: readonly StreamEvent[]): Map<number, string> {
  const args = new Map<number, string>();
  for (const e of events) {
    if (e.type === 'tool_call' && e.arguments !== undefined)
      args.set(e.index, (args.get(e.index) ?? '') + e.arguments);
  }
  return args;
}

export async function* replay<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** Collects what an iterable yielded before it threw, and what it threw. */
export async function collectUntilError<T>(
  iterable: AsyncIterable<T>,
): Promise<{ items: T[]; error: unknown }> {
  const items: T[] = [];
  try {
    for await (const item of iterable) items.push(item);
  } catch (error) {
    return { items, error };
  }
  return { items, error: undefined };
}
