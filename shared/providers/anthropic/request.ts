// The validated OpenAI chat request -> an Anthropic streaming Messages request. Pure.
import type { MessageCreateParamsStreaming } from '@anthropic-ai/sdk/resources/messages';
import type { ChatRequest } from '../../openai/schema';
import { callSettings } from '../call-settings';
import type { TargetCall } from '../types';
import { toAnthropicPrompt } from './messages';
import { toAnthropicToolChoice, toAnthropicTools } from './tools';

export interface AnthropicRequestOptions extends NonNullable<TargetCall['overrides']> {
  /** Used when neither the client nor the route sets a limit: Anthropic requires one. */
  defaultMaxTokens: number;
}

function stopSequences(stop: ChatRequest['stop']): string[] {
  const list = stop == null ? [] : typeof stop === 'string' ? [stop] : stop;
  // Anthropic rejects stop sequences made only of whitespace.
  return list.filter((s) => s.trim() !== '');
}

/**
 * The token limit follows the one rule for all providers (call-settings.ts). `temperature` and
 * `top_p` are never sent: the API version this SDK speaks (2026-10-21) answers 400 to any
 * sampling parameter at any value, alone or together, and the SDK no longer declares them (the
 * provider logs the drop once, at debug). OpenAI-only fields (seed, penalties, response_format,
 * n) have no Anthropic counterpart and are dropped.
 */
export function toAnthropicRequest(
  request: ChatRequest,
  model: string,
  opts: AnthropicRequestOptions,
): MessageCreateParamsStreaming {
  const tools = toAnthropicTools(request.tools ?? []);
  const { system, messages } = toAnthropicPrompt(request.messages, { toolsDeclared: tools.length > 0 });
  const toolChoice =
    tools.length > 0 ? toAnthropicToolChoice(request.tool_choice, request.parallel_tool_calls) : undefined;
  const stop = stopSequences(request.stop);
  const userId = request.user ?? request.user_id;
  return {
    model,
    max_tokens: callSettings(request, opts).maxTokens ?? opts.defaultMaxTokens,
    ...(system.length > 0 ? { system } : {}),
    messages,
    ...(tools.length > 0 ? { tools } : {}),
    ...(toolChoice ? { tool_choice: toolChoice } : {}),
    ...(stop.length > 0 ? { stop_sequences: stop } : {}),
    ...(userId ? { metadata: { user_id: userId } } : {}),
    stream: true,
  };
}
