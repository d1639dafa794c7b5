// A fake OpenAI Chat Completions upstream: builders for the real wire format (streamed
// `chat.completion.chunk`s and `chat.completion` JSON) on top of the scripted server.
import {
  type Behaviour,
  type Responder,
  type ScriptedServer,
  type ScriptedServerOptions,
  startScriptedServer,
} from './scripted-server';

export interface OpenAIToolCallSpec {
  id: string;
  name: string;
  /** The arguments JSON, whole or as the fragments to stream. */
  arguments: string | readonly string[];
}

export interface OpenAIReplySpec {
  id?: string;
  model?: string;
  created?: number;
  /** Streamed as `delta.reasoning_content` (DeepSeek, vLLM and other compatible servers). */
  reasoning?: readonly string[];
  /** Content deltas, one chunk each. */
  text?: readonly string[];
  toolCalls?: readonly OpenAIToolCallSpec[];
  /** Defaults to `tool_calls` when there are tool calls, else `stop`. */
  finishReason?: 'stop' | 'length' | 'tool_calls' | 'content_filter';
  usage?: { prompt_tokens: number; completion_tokens: number; cached_tokens?: number };
}

export const OPENAI_PATHS = ['/v1/chat/completions', '/chat/completions'] as const;

const DEFAULT_MODEL = 'gpt-fake-1';
const DEFAULT_CREATED = 1_767_225_600;

function fragments(args: string | readonly string[]): readonly string[] {
  return typeof args === 'string' ? [args] : args;
}

function finishReasonOf(spec: OpenAIReplySpec): NonNullable<OpenAIReplySpec['finishReason']> {
  return spec.finishReason ?? (spec.toolCalls && spec.toolCalls.length > 0 ? 'tool_calls' : 'stop');
}

function usageOf(spec: OpenAIReplySpec) {
  const u = spec.usage ?? {
    prompt_tokens: 12,
    completion_tokens: (spec.text?.length ?? 0) + (spec.toolCalls?.length ?? 0) * 5,
  };
  return {
    prompt_tokens: u.prompt_tokens,
    completion_tokens: u.completion_tokens,
    total_tokens: u.prompt_tokens + u.completion_tokens,
    prompt_tokens_details: { cached_tokens: u.cached_tokens ?? 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
  };
}

/**
 * The data payloads of a streamed reply, as OpenAI sends them: role first, then reasoning,
 * content and tool-call deltas, a chunk with `finish_reason`, with `includeUsage` a final chunk
 * with `choices: []` and `usage`, then `[DONE]`. Feed to an `sse` behaviour.
 */
export function openaiChunks(spec: OpenAIReplySpec, opts: { includeUsage?: boolean } = {}): string[] {
  const base = {
    id: spec.id ?? 'chatcmpl-fake0001',
    object: 'chat.completion.chunk',
    created: spec.created ?? DEFAULT_CREATED,
    model: spec.model ?? DEFAULT_MODEL,
    system_fingerprint: 'fp_fake',
  };
  // With include_usage, OpenAI puts `usage: null` on every chunk but the last.
  const usageField = opts.includeUsage ? { usage: null } : {};
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    JSON.stringify({
      ...base,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...usageField,
    });

  const out: string[] = [chunk({ role: 'assistant', content: '', refusal: null })];
  for (const r of spec.reasoning ?? []) out.push(chunk({ reasoning_content: r }));
  for (const t of spec.text ?? []) out.push(chunk({ content: t }));
  (spec.toolCalls ?? []).forEach((call, index) => {
    out.push(
      chunk({
        tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }],
      }),
    );
    for (const part of fragments(call.arguments)) {
      out.push(chunk({ tool_calls: [{ index, function: { arguments: part } }] }));
    }
  });
  out.push(chunk({}, finishReasonOf(spec)));
  if (opts.includeUsage) out.push(JSON.stringify({ ...base, choices: [], usage: usageOf(spec) }));
  out.push('[DONE]');
  return out;
}

/** The non-streaming `chat.completion` object for the same reply. */
export function openaiCompletion(spec: OpenAIReplySpec): Record<string, unknown> {
  const text = (spec.text ?? []).join('');
  const toolCalls = (spec.toolCalls ?? []).map((c) => ({
    id: c.id,
    type: 'function',
    function: { name: c.name, arguments: fragments(c.arguments).join('') },
  }));
  return {
    id: spec.id ?? 'chatcmpl-fake0001',
    object: 'chat.completion',
    created: spec.created ?? DEFAULT_CREATED,
    model: spec.model ?? DEFAULT_MODEL,
    system_fingerprint: 'fp_fake',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text === '' && toolCalls.length > 0 ? null : text,
          refusal: null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: finishReasonOf(spec),
      },
    ],
    usage: usageOf(spec),
  };
}

/** An OpenAI-style error response, e.g. `openaiError(429, 'slow down', {headers: {'retry-after': '2'}})`. */
export function openaiError(
  status: number,
  message: string,
  opts: { type?: string; code?: string | null; headers?: Record<string, string> } = {},
): Behaviour {
  const type =
    opts.type ??
    (status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error');
  return {
    kind: 'json',
    status,
    body: { error: { message, type, param: null, code: opts.code ?? null } },
    ...(opts.headers ? { headers: opts.headers } : {}),
  };
}

interface OpenAIRequestShape {
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean | null } | null;
}

/**
 * Answers like OpenAI would for this request: a stream when `stream: true` (with the usage
 * chunk only when `stream_options.include_usage`), the `chat.completion` JSON otherwise.
 */
export function openaiReply(
  spec: OpenAIReplySpec,
  opts: { splitEvery?: number; delayMs?: number } = {},
): Responder {
  return (req) => {
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as OpenAIRequestShape;
    if (body.stream !== true) return { kind: 'json', status: 200, body: openaiCompletion(spec) };
    return {
      kind: 'sse',
      events: openaiChunks(spec, { includeUsage: body.stream_options?.include_usage === true }),
      ...opts,
    };
  };
}

export interface FakeOpenAIServer extends ScriptedServer {
  /** Makes every later request (with an empty queue) answer with these tokens or this reply. */
  replyWith(reply: readonly string[] | OpenAIReplySpec): void;
}

function asSpec(reply: readonly string[] | OpenAIReplySpec): OpenAIReplySpec {
  return Array.isArray(reply) ? { text: reply as readonly string[] } : (reply as OpenAIReplySpec);
}

/**
 * Serves POST /v1/chat/completions and /chat/completions; by default every request gets the
 * reply "Hello from the fake." (streamed or not, as asked).
 */
export async function startOpenAIServer(
  opts: { reply?: readonly string[] | OpenAIReplySpec } & Pick<ScriptedServerOptions, 'paths'> = {},
): Promise<FakeOpenAIServer> {
  const server = await startScriptedServer({
    paths: opts.paths ?? OPENAI_PATHS,
    default: openaiReply(asSpec(opts.reply ?? ['Hello', ' from', ' the', ' fake.'])),
  });
  return { ...server, replyWith: (reply) => server.setDefault(openaiReply(asSpec(reply))) };
}
