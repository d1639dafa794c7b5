// The OpenAI provider, also used for every OpenAI-compatible server (Gemini, Groq, vLLM, ...).
import OpenAI from 'openai';
import type { ProviderConfig } from '../../config';
import { isProviderConfigured } from '../../config';
import type { Provider, StreamEvent, TargetCall } from '../types';
import { toUpstreamError } from '../upstream-error';
import { toOpenAIRequest } from './request';
import { openaiChunksToEvents } from './stream';

export interface OpenAIProviderOptions {
  timeoutMs: number;
  maxTokens?: number;
}

export function createOpenAIProvider(cfg: ProviderConfig, opts: OpenAIProviderOptions): Provider {
  const dialect = cfg.kind === 'openai' ? 'openai' : 'compatible';
  // Retries and failover belong to the routing layer, so the SDK never retries on its own.
  const client = new OpenAI({
    apiKey: cfg.apiKey ?? 'not-needed',
    baseURL: cfg.baseURL ?? null,
    maxRetries: 0,
    timeout: opts.timeoutMs,
  });
  return {
    name: cfg.name,
    kind: cfg.kind,
    configured: isProviderConfigured(cfg),
    async *stream(call: TargetCall): AsyncGenerator<StreamEvent> {
      try {
        const body = toOpenAIRequest(call.request, call.model, { dialect, ...call.overrides });
        const upstream = await client.chat.completions.create(body, { signal: call.signal });
        yield* openaiChunksToEvents(upstream);
      } catch (err) {
        throw toUpstreamError(err, cfg.name, call.signal);
      }
    },
  };
}
