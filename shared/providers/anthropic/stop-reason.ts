// Maps Anthropic's `stop_reason` onto the OpenAI `finish_reason` that clients act on.
import type { StopReason } from '@anthropic-ai/sdk/resources/messages';
import type { FinishReason } from '../types';

export function mapAnthropicStopReason(reason: StopReason): FinishReason {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
    // A paused server-tool turn is complete from the client's point of view.
    case 'pause_turn':
      return 'stop';
    // Both mean the answer was cut short; `stop` here would hide truncated tool arguments.
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default: {
      // A stop reason newer than this SDK: a compile error on upgrade, `stop` at run time.
      const _unknown: never = reason;
      return 'stop';
    }
  }
}
