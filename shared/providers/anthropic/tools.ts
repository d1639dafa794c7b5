// OpenAI tool definitions and tool_choice -> their Anthropic equivalents.
import type { Tool, ToolChoice } from '@anthropic-ai/sdk/resources/messages';
import type { FunctionTool, ToolChoice as OpenAIToolChoice } from '../../openai/schema';

export function toAnthropicTools(tools: readonly FunctionTool[]): Tool[] {
  return tools.map(({ function: fn }) => ({
    name: fn.name,
    ...(fn.description ? { description: fn.description } : {}),
    // Anthropic requires an object schema; tools without parameters (end_call, skip_turn)
    // often send none at all.
    input_schema: { properties: {}, ...fn.parameters, type: 'object' },
  }));
}

/**
 * none/auto/required/named -> none/auto/any/tool. `parallel_tool_calls: false` has no field
 * of its own in Anthropic: it rides on the choice (`auto` when the client named none).
 */
export function toAnthropicToolChoice(
  choice: OpenAIToolChoice | null | undefined,
  parallelToolCalls: boolean | null | undefined,
): ToolChoice | undefined {
  const disable = parallelToolCalls === false ? { disable_parallel_tool_use: true } : {};
  if (choice === 'none') return { type: 'none' };
  if (choice === 'required') return { type: 'any', ...disable };
  if (choice && typeof choice === 'object') return { type: 'tool', name: choice.function.name, ...disable };
  if (choice === 'auto' || parallelToolCalls === false) return { type: 'auto', ...disable };
  return undefined;
}
