// A fake Anthropic Messages API upstream: builders for the real SSE wire format (named events:
// message_start, content_block_*, message_delta, message_stop, ping, error) and error bodies.
import {
  type Behaviour,
  type Responder,
  type ScriptedServer,
  type ScriptedServerOptions,
  startScriptedServer,
} from './scripted-server';

export type AnthropicBlockSpec =
  | { type: 'text'; text: readonly string[] }
  /** `input` is the tool input JSON as the fragments to stream; `[]` streams no delta at all. */
  | { type: 'tool_use'; id: string; name: string; input: readonly string[] }
  | { type: 'thinking'; thinking: readonly string[]; signature?: string };

export interface AnthropicUsageSpec {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
}

export interface AnthropicReplySpec {
  id?: string;
  model?: string;
  blocks: readonly AnthropicBlockSpec[];
  /** Defaults to `tool_use` when a tool_use block is present, else `end_turn`. */
  stopReason?: 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal';
  usage?: AnthropicUsageSpec;
  /** Send a `ping` after message_start, as the API does (default true). */
  ping?: boolean;
}

export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error'
  | 'timeout_error';

export const ANTHROPIC_PATHS = ['/v1/messages'] as const;

const DEFAULT_MODEL = 'claude-fake-1';

/** One raw SSE frame exactly as the API writes it: `event: <type>\ndata: <json>\n\n`. */
export function anthropicFrame(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

/** The `error` event the API sends mid-stream (e.g. when it becomes overloaded). */
export function anthropicErrorEvent(errorType: AnthropicErrorType, message: string): string {
  return anthropicFrame('error', { error: { type: errorType, message } });
}

function stopReasonOf(spec: AnthropicReplySpec): NonNullable<AnthropicReplySpec['stopReason']> {
  return spec.stopReason ?? (spec.blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn');
}

function usageOf(spec: AnthropicReplySpec): AnthropicUsageSpec {
  return spec.usage ?? { input_tokens: 25, output_tokens: 1 + spec.blocks.length * 4 };
}

function startUsage(u: AnthropicUsageSpec): Record<string, unknown> {
  return {
    input_tokens: u.input_tokens,
    cache_creation_input_tokens: u.cache_creation_input_tokens ?? 0,
    cache_read_input_tokens: u.cache_read_input_tokens ?? 0,
    // message_start reports the output tokens of the first step only; message_delta is final.
    output_tokens: 1,
    service_tier: 'standard',
  };
}

function emptyBlock(block: AnthropicBlockSpec): Record<string, unknown> {
  switch (block.type) {
    case 'text':
      return { type: 'text', text: '' };
    case 'tool_use':
      return { type: 'tool_use', id: block.id, name: block.name, input: {} };
    case 'thinking':
      return { type: 'thinking', thinking: '', signature: '' };
    default: {
      const unknown: never = block;
      throw new Error(`unknown block ${JSON.stringify(unknown)}`);
    }
  }
}

function blockDeltas(block: AnthropicBlockSpec): Record<string, unknown>[] {
  switch (block.type) {
    case 'text':
      return block.text.map((text) => ({ type: 'text_delta', text }));
    case 'tool_use':
      return block.input.map((partial_json) => ({ type: 'input_json_delta', partial_json }));
    case 'thinking':
      return [
        ...block.thinking.map((thinking) => ({ type: 'thinking_delta', thinking })),
        { type: 'signature_delta', signature: block.signature ?? 'c2lnbmF0dXJl' },
      ];
    default: {
      const unknown: never = block;
      throw new Error(`unknown block ${JSON.stringify(unknown)}`);
    }
  }
}

/** The raw SSE frames of a whole streamed reply, ending with `message_stop`. */
export function anthropicEvents(spec: AnthropicReplySpec): string[] {
  const usage = usageOf(spec);
  const out: string[] = [
    anthropicFrame('message_start', {
      message: {
        id: spec.id ?? 'msg_fake0001',
        type: 'message',
        role: 'assistant',
        model: spec.model ?? DEFAULT_MODEL,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: startUsage(usage),
      },
    }),
  ];
  if (spec.ping ?? true) out.push(anthropicFrame('ping', {}));
  spec.blocks.forEach((block, index) => {
    out.push(anthropicFrame('content_block_start', { index, content_block: emptyBlock(block) }));
    for (const delta of blockDeltas(block)) out.push(anthropicFrame('content_block_delta', { index, delta }));
    out.push(anthropicFrame('content_block_stop', { index }));
  });
  out.push(
    anthropicFrame('message_delta', {
      delta: { stop_reason: stopReasonOf(spec), stop_sequence: null },
      usage: { output_tokens: usage.output_tokens },
    }),
  );
  out.push(anthropicFrame('message_stop', {}));
  return out;
}

/** The non-streaming Message JSON for the same reply. */
export function anthropicMessage(spec: AnthropicReplySpec): Record<string, unknown> {
  const usage = usageOf(spec);
  const content = spec.blocks.map((block) => {
    switch (block.type) {
      case 'text':
        return { type: 'text', text: block.text.join('') };
      case 'tool_use': {
        const json = block.input.join('');
        return {
          type: 'tool_use',
          id: block.id,
          name: block.name,
          input: json === '' ? {} : JSON.parse(json),
        };
      }
      case 'thinking':
        return {
          type: 'thinking',
          thinking: block.thinking.join(''),
          signature: block.signature ?? 'c2lnbmF0dXJl',
        };
      default: {
        const unknown: never = block;
        throw new Error(`unknown block ${JSON.stringify(unknown)}`);
      }
    }
  });
  return {
    id: spec.id ?? 'msg_fake0001',
    type: 'message',
    role: 'assistant',
    model: spec.model ?? DEFAULT_MODEL,
    content,
    stop_reason: stopReasonOf(spec),
    stop_sequence: null,
    usage: { ...startUsage(usage), output_tokens: usage.output_tokens },
  };
}

/** An HTTP error as the API answers it, e.g. `anthropicError(429, 'rate_limit_error', ..., {'retry-after': '3'})`. */
export function anthropicError(
  status: number,
  errorType: AnthropicErrorType,
  message: string,
  headers?: Record<string, string>,
): Behaviour {
  return {
    kind: 'json',
    status,
    body: { type: 'error', error: { type: errorType, message }, request_id: 'req_fake0001' },
    ...(headers ? { headers } : {}),
  };
}

/** HTTP 529, the API's "overloaded" answer before any byte of a stream. */
export function anthropicOverloaded(message = 'Overloaded'): Behaviour {
  return anthropicError(529, 'overloaded_error', message);
}

/** Answers like the API would: an event stream when `stream: true`, the Message JSON otherwise. */
export function anthropicReply(
  spec: AnthropicReplySpec,
  opts: { splitEvery?: number; delayMs?: number } = {},
): Responder {
  return (req) => {
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as { stream?: unknown };
    if (body.stream !== true) return { kind: 'json', status: 200, body: anthropicMessage(spec) };
    return { kind: 'sse', events: anthropicEvents(spec), ...opts };
  };
}

export interface FakeAnthropicServer extends ScriptedServer {
  /** Makes every later request (with an empty queue) answer with these text tokens or this reply. */
  replyWith(reply: readonly string[] | AnthropicReplySpec): void;
}

function asSpec(reply: readonly string[] | AnthropicReplySpec): AnthropicReplySpec {
  return Array.isArray(reply)
    ? { blocks: [{ type: 'text', text: reply as readonly string[] }] }
    : (reply as AnthropicReplySpec);
}

/**
 * Serves POST /v1/messages (point the SDK's `baseURL` at `server.url`); by default every
 * request gets the reply "Hello from the fake." (streamed or not, as asked).
 */
export async function startAnthropicServer(
  opts: { reply?: readonly string[] | AnthropicReplySpec } & Pick<ScriptedServerOptions, 'paths'> = {},
): Promise<FakeAnthropicServer> {
  const server = await startScriptedServer({
    paths: opts.paths ?? ANTHROPIC_PATHS,
    default: anthropicReply(asSpec(opts.reply ?? ['Hello', ' from', ' the', ' fake.'])),
  });
  return { ...server, replyWith: (reply) => server.setDefault(anthropicReply(asSpec(reply))) };
}
