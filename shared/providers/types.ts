// What every provider produces: a stream of normalized events that one encoder turns into
// `chat.completion.chunk`s (and one aggregator into a `chat.completion`).
import type { ChatRequest } from '../openai/schema';

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Tokens read from a provider prompt cache, when the provider reports it. */
  cached_tokens?: number;
}

export type StreamEvent =
  | { type: 'text'; text: string }
  | { type: 'reasoning'; text: string }
  /** First event of a tool call carries id and name; later ones carry argument fragments. */
  | { type: 'tool_call'; index: number; id?: string; name?: string; arguments?: string }
  | { type: 'finish'; reason: FinishReason }
  | { type: 'usage'; usage: Usage };

export interface TargetCall {
  /** The upstream model name to call. */
  model: string;
  /** The validated client request; providers translate it, never mutate it. */
  request: ChatRequest;
  /** Aborted when the client goes away, a timeout fires, or a hedge wins. */
  signal: AbortSignal;
  /** Per-target overrides from the route configuration. */
  overrides?: { maxTokens?: number; temperature?: number };
}

export type ProviderKind = 'openai' | 'anthropic' | 'compatible' | 'echo';

export interface Provider {
  /** Instance name used in routes ("openai", "anthropic", "gemini", "groq", ...). */
  readonly name: string;
  readonly kind: ProviderKind;
  /** Whether an API key (or, for keyless servers, a base URL) is configured. */
  readonly configured: boolean;
  /** Loads and initializes the SDK ahead of the first call (cold start), where there is one. */
  warm?(): Promise<void>;
  /**
   * Starts the upstream call. Rejects with an UpstreamError when the call fails before any
   * event; the returned iterable throws an UpstreamError when the stream breaks later.
   */
  stream(call: TargetCall): AsyncIterable<StreamEvent>;
}
