// Every Anthropic stop_reason maps to the finish_reason an OpenAI client acts on.
import type { StopReason } from '@anthropic-ai/sdk/resources/messages';
import { mapAnthropicStopReason } from '../../../../shared/providers/anthropic/stop-reason';
import type { FinishReason } from '../../../../shared/providers/types';

test.each<[StopReason, FinishReason]>([
  ['end_turn', 'stop'],
  ['stop_sequence', 'stop'],
  ['pause_turn', 'stop'],
  ['max_tokens', 'length'],
  ['model_context_window_exceeded', 'length'],
  ['tool_use', 'tool_calls'],
  ['refusal', 'content_filter'],
])('%s -> %s', (reason, finish) => {
  expect(mapAnthropicStopReason(reason)).toBe(finish);
});

test('a stop reason newer than the SDK reads as stop', () => {
  expect(mapAnthropicStopReason('some_future_reason' as StopReason)).toBe('stop');
});
