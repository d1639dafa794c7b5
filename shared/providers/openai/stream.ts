// OpenAI-format chunks from upstream -> our StreamEvents. Pure.
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { UpstreamError } from '../../errors';
import type { FinishReason, StreamEvent } from '../types';

type UpstreamDelta = ChatCompletionChunk.Choice.Delta & {
  reasoning_content?: string | null;
  reasoning?: string | null;
};

const FINISH: Record<string, FinishReason> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool_calls',
  function_call: 'tool_calls',
  content_filter: 'content_filter',
};

export async function* openaiChunksToEvents(
  chunks: AsyncIterable<ChatCompletionChunk>,
  provider = 'openai',
): AsyncGenerator<StreamEvent> {
  let started = false;
  let finished = false;
  for await (const chunk of chunks) {
    started = true;
    const choice = chunk.choices?.[0];
    if (choice) {
      const delta = (choice.delta ?? {}) as UpstreamDelta;
      const reasoning = delta.reasoning_content ?? delta.reasoning;
      if (reasoning) yield { type: 'reasoning', text: reasoning };
      if (delta.content) yield { type: 'text', text: delta.content };
      for (const call of delta.tool_calls ?? []) {
        const event: StreamEvent & { type: 'tool_call' } = { type: 'tool_call', index: call.index };
        if (call.id) event.id = call.id;
        if (call.function?.name) event.name = call.function.name;
        if (call.function?.arguments) event.arguments = call.function.arguments;
        yield event;
      }
      if (choice.finish_reason) {
        finished = true;
        yield { type: 'finish', reason: FINISH[choice.finish_reason] ?? 'stop' };
      }
    }
    if (chunk.usage) {
      const cached = chunk.usage.prompt_tokens_details?.cached_tokens;
      yield {
        type: 'usage',
        usage: {
          prompt_tokens: chunk.usage.prompt_tokens,
          completion_tokens: chunk.usage.completion_tokens,
          total_tokens: chunk.usage.total_tokens,
          ...(cached != null ? { cached_tokens: cached } : {}),
        },
      };
    }
  }
  // The SDK ends a stream quietly when the body stops early (a clean close, or our own abort):
  // without a finish_reason the answer is cut short, and must not reach the client as complete.
  // No chunk at all is left to the caller, which reports an empty response.
  if (started && !finished) {
    throw new UpstreamError(`${provider}: the stream ended before a finish_reason`, {
      retryable: true,
      errorClass: 'truncated',
      code: 'upstream_truncated',
    });
  }
}
