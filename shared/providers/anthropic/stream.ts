// Anthropic Messages stream events -> our StreamEvents. Pure: no I/O, no SDK client.
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import { UpstreamError } from '../../errors';
import type { FinishReason, StreamEvent, Usage } from '../types';
import { mapAnthropicStopReason } from './stop-reason';
import { type AnthropicErrorDetail, anthropicErrorToUpstreamError } from './upstream-errors';

/** Sent on the wire; the SDK drops it, recorded fixtures keep it. */
export interface AnthropicPingEvent {
  type: 'ping';
}

/** Sent on the wire when a stream fails after it started; the SDK throws it instead. */
export interface AnthropicErrorEvent {
  type: 'error';
  error: AnthropicErrorDetail;
}

export type AnthropicStreamEvent = RawMessageStreamEvent | AnthropicPingEvent | AnthropicErrorEvent;

interface ToolBlock {
  /** Position among the tool calls of this answer: what OpenAI clients key arguments by. */
  toolIndex: number;
  sawArguments: boolean;
}

interface UsageCounts {
  input: number;
  cacheRead: number;
  cacheCreation: number;
  output: number;
}

function toUsage(u: UsageCounts): Usage {
  // Anthropic counts cached and cache-writing input apart from `input_tokens`; OpenAI's
  // prompt_tokens includes them, and clients do their accounting from that.
  const prompt = u.input + u.cacheRead + u.cacheCreation;
  return {
    prompt_tokens: prompt,
    completion_tokens: u.output,
    total_tokens: prompt + u.output,
    cached_tokens: u.cacheRead,
  };
}

export async function* anthropicStreamToEvents(
  events: AsyncIterable<AnthropicStreamEvent>,
  provider = 'anthropic',
): AsyncGenerator<StreamEvent> {
  // Keyed by content-block index, which counts text and thinking blocks too.
  const tools = new Map<number, ToolBlock>();
  const usage: UsageCounts = { input: 0, cacheRead: 0, cacheCreation: 0, output: 0 };
  let finish: FinishReason | undefined;
  let stopped = false;

  for await (const event of events) {
    if (stopped) continue;
    switch (event.type) {
      case 'message_start': {
        const u = event.message.usage;
        usage.input = u.input_tokens;
        usage.cacheRead = u.cache_read_input_tokens ?? 0;
        usage.cacheCreation = u.cache_creation_input_tokens ?? 0;
        usage.output = u.output_tokens;
        break;
      }
      case 'content_block_start': {
        const block = event.content_block;
        if (block.type === 'tool_use') {
          const toolIndex = tools.size;
          tools.set(event.index, { toolIndex, sawArguments: false });
          yield { type: 'tool_call', index: toolIndex, id: block.id, name: block.name };
        } else if (block.type === 'text' && block.text !== '') {
          yield { type: 'text', text: block.text };
        } else if (block.type === 'thinking' && block.thinking !== '') {
          yield { type: 'reasoning', text: block.thinking };
        }
        // Redacted thinking and server-tool blocks have nothing a chat client can show.
        break;
      }
      case 'content_block_delta': {
        const delta = event.delta;
        switch (delta.type) {
          case 'text_delta':
            if (delta.text !== '') yield { type: 'text', text: delta.text };
            break;
          case 'thinking_delta':
            if (delta.thinking !== '') yield { type: 'reasoning', text: delta.thinking };
            break;
          case 'input_json_delta': {
            const tool = tools.get(event.index);
            if (tool && delta.partial_json !== '') {
              tool.sawArguments = true;
              yield { type: 'tool_call', index: tool.toolIndex, arguments: delta.partial_json };
            }
            break;
          }
          case 'signature_delta':
          case 'citations_delta':
            break;
          default: {
            const unknown: never = delta;
            throw new Error(`unhandled Anthropic delta ${JSON.stringify(unknown)}`);
          }
        }
        break;
      }
      case 'content_block_stop': {
        const tool = tools.get(event.index);
        // A tool without parameters streams no input at all; "" is not valid JSON arguments.
        if (tool && !tool.sawArguments) yield { type: 'tool_call', index: tool.toolIndex, arguments: '{}' };
        break;
      }
      case 'message_delta': {
        if (event.delta.stop_reason) finish = mapAnthropicStopReason(event.delta.stop_reason);
        const u = event.usage;
        usage.output = u.output_tokens;
        // Newer API versions repeat cumulative input counts here; they are the final word.
        if (u.input_tokens != null) usage.input = u.input_tokens;
        if (u.cache_read_input_tokens != null) usage.cacheRead = u.cache_read_input_tokens;
        if (u.cache_creation_input_tokens != null) usage.cacheCreation = u.cache_creation_input_tokens;
        break;
      }
      case 'message_stop':
        // Tool calls always need the client to act, whatever the stop reason said.
        if ((finish === undefined || finish === 'stop') && tools.size > 0) finish = 'tool_calls';
        yield { type: 'finish', reason: finish ?? 'stop' };
        yield { type: 'usage', usage: toUsage(usage) };
        // Keep reading to the end of the body rather than returning: leaving early aborts the
        // SDK request, and a connection cut mid-response cannot be reused for the next turn.
        stopped = true;
        break;
      case 'ping':
        break;
      case 'error':
        throw anthropicErrorToUpstreamError(event.error, provider);
      default: {
        const unknown: never = event;
        throw new Error(`unhandled Anthropic event ${JSON.stringify(unknown)}`);
      }
    }
  }
  if (stopped) return;
  throw new UpstreamError(`${provider}: the stream ended before message_stop`, {
    retryable: true,
    errorClass: 'truncated',
    code: 'upstream_truncated',
  });
}
