// OpenAI chat history -> Anthropic `system` + alternating user/assistant turns, with tool
// calls and results as tool_use/tool_result pairs and a prompt-cache breakpoint after the images.
import type {
  CacheControlEphemeral,
  ContentBlockParam,
  MessageParam,
  TextBlockParam,
  ToolResultBlockParam,
  ToolUseBlockParam,
} from '@anthropic-ai/sdk/resources/messages';
import {
  type AssistantMessage,
  type ChatMessage,
  contentText,
  type ToolCall,
  type ToolMessage,
  type UserMessage,
} from '../../openai/schema';
import { toAnthropicImage } from './images';
import { repairToolHistory, type Turn } from './tool-history';

/**
 * Anthropic requires the first turn to be the user's, but an ElevenLabs history starts with
 * the agent's greeting (an assistant message). Dropping the greeting would hide what the
 * agent already said, so a minimal user turn goes in front of it instead.
 */
export const CONVERSATION_START_TEXT = '(conversation started)';

const EPHEMERAL: CacheControlEphemeral = { type: 'ephemeral' };

export interface AnthropicPrompt {
  system: TextBlockParam[];
  messages: MessageParam[];
}

function text(value: string): TextBlockParam[] {
  // Anthropic rejects empty text blocks.
  return value.trim() === '' ? [] : [{ type: 'text', text: value }];
}

function userBlocks(msg: UserMessage, at: number): ContentBlockParam[] {
  if (typeof msg.content === 'string') return text(msg.content);
  return msg.content.flatMap((part, j): ContentBlockParam[] =>
    part.type === 'text'
      ? text(part.text)
      : [toAnthropicImage(part, `messages[${at}].content[${j}].image_url.url`)],
  );
}

/**
 * Tool arguments are a JSON string in OpenAI and an object in Anthropic. No arguments ("")
 * become `{}`; arguments that are not a JSON object (a model's broken output, kept in
 * history) are kept verbatim under `_raw` so the model sees what it sent, rather than the
 * whole turn being rejected.
 */
export function parseToolArguments(args: string): Record<string, unknown> {
  if (args.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(args);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // Falls through to the verbatim form.
  }
  return { _raw: args };
}

function toolUse(call: ToolCall): ToolUseBlockParam {
  return {
    type: 'tool_use',
    id: call.id,
    name: call.function.name,
    input: parseToolArguments(call.function.arguments),
  };
}

function assistantBlocks(msg: AssistantMessage): ContentBlockParam[] {
  const said =
    typeof msg.content === 'string' || msg.content == null
      ? (msg.content ?? '')
      : msg.content.map((p) => (p.type === 'text' ? p.text : p.refusal)).join('\n');
  // reasoning_content is not sent back: Anthropic only accepts its own signed thinking blocks.
  return [...text(said), ...(msg.tool_calls ?? []).map(toolUse)];
}

function toolResult(msg: ToolMessage): ToolResultBlockParam {
  const content = contentText(msg.content);
  return { type: 'tool_result', tool_use_id: msg.tool_call_id, ...(content === '' ? {} : { content }) };
}

function append(turns: Turn[], role: Turn['role'], blocks: ContentBlockParam[]): void {
  if (blocks.length === 0) return;
  const last = turns.at(-1);
  // Consecutive same-role turns (two user messages, tool results then user text) become one.
  if (last?.role === role) last.content.push(...blocks);
  else turns.push({ role, content: [...blocks] });
}

/** Anthropic wants a user turn's tool_result blocks before anything else in it. */
function toolResultsFirst(turn: Turn): Turn {
  if (turn.role !== 'user') return turn;
  const results = turn.content.filter((b) => b.type === 'tool_result');
  if (results.length === 0) return turn;
  return { role: 'user', content: [...results, ...turn.content.filter((b) => b.type !== 'tool_result')] };
}

/** Puts the cache breakpoint on the last image, so the prefix through every image is cached. */
function markLastImage(turns: readonly Turn[]): void {
  for (let t = turns.length - 1; t >= 0; t--) {
    const content = turns[t]!.content;
    for (let b = content.length - 1; b >= 0; b--) {
      const block = content[b]!;
      if (block.type === 'image') {
        content[b] = { ...block, cache_control: EPHEMERAL };
        return;
      }
    }
  }
}

export function toAnthropicPrompt(
  messages: readonly ChatMessage[],
  opts: { toolsDeclared: boolean },
): AnthropicPrompt {
  const system: TextBlockParam[] = [];
  let turns: Turn[] = [];
  messages.forEach((msg, at) => {
    switch (msg.role) {
      case 'system':
      case 'developer':
        system.push(...text(contentText(msg.content)));
        break;
      case 'user':
        append(turns, 'user', userBlocks(msg, at));
        break;
      case 'assistant':
        append(turns, 'assistant', assistantBlocks(msg));
        break;
      case 'tool':
        append(turns, 'user', [toolResult(msg)]);
        break;
      default: {
        const unknown: never = msg;
        throw new Error(`unhandled message ${JSON.stringify(unknown)}`);
      }
    }
  });

  turns = repairToolHistory(turns, opts.toolsDeclared).map(toolResultsFirst);
  if (turns[0]?.role !== 'user') turns.unshift({ role: 'user', content: text(CONVERSATION_START_TEXT) });
  markLastImage(turns);

  const last = system.at(-1);
  if (last) system[system.length - 1] = { ...last, cache_control: EPHEMERAL };
  return { system, messages: turns };
}
