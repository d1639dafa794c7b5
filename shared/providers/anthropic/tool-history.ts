// Makes earlier tool calls in a history acceptable to Anthropic, which rejects the whole request
// when a tool_use has no tool_result in the very next turn, when a tool_result answers no
// tool_use of the turn before, or when tool blocks appear but the request declares no tools.
import type { ContentBlockParam, ToolResultBlockParam } from '@anthropic-ai/sdk/resources/messages';

export interface Turn {
  role: 'user' | 'assistant';
  content: ContentBlockParam[];
}

/**
 * Stands in for a result the history does not carry (ElevenLabs may not report results of
 * its system tools such as end_call or skip_turn; unconfirmed), so one missing result does not
 * fail every later turn of the conversation.
 */
export const MISSING_TOOL_RESULT = 'No result was recorded for this tool call.';

function resultText(block: ToolResultBlockParam): string {
  if (block.content === undefined) return '';
  if (typeof block.content === 'string') return block.content;
  return block.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');
}

/** A tool block written out as text, for when it cannot stay a tool block. */
function asText(block: ContentBlockParam): ContentBlockParam {
  if (block.type === 'tool_use') {
    return { type: 'text', text: `[called tool ${block.name} with ${JSON.stringify(block.input)}]` };
  }
  if (block.type === 'tool_result') {
    return { type: 'text', text: `[result of tool call ${block.tool_use_id}: ${resultText(block)}]` };
  }
  return block;
}

function toolUseIds(turn: Turn | undefined): string[] {
  if (turn?.role !== 'assistant') return [];
  return turn.content.flatMap((b) => (b.type === 'tool_use' ? [b.id] : []));
}

export function repairToolHistory(turns: readonly Turn[], toolsDeclared: boolean): Turn[] {
  if (!toolsDeclared) return turns.map((t) => ({ role: t.role, content: t.content.map(asText) }));

  const out: Turn[] = [];
  // Placeholder results owed by the assistant turn just pushed, for the user turn after it.
  let owed: ContentBlockParam[] = [];
  turns.forEach((turn, i) => {
    if (turn.role === 'user') {
      const answered = new Set(toolUseIds(turns[i - 1]));
      const content = turn.content.map((b) =>
        b.type === 'tool_result' && !answered.has(b.tool_use_id) ? asText(b) : b,
      );
      out.push({ role: 'user', content: [...owed, ...content] });
      owed = [];
      return;
    }
    out.push({ role: 'assistant', content: [...turn.content] });
    const next = turns[i + 1];
    const present = new Set(
      (next?.role === 'user' ? next.content : []).flatMap((b) =>
        b.type === 'tool_result' ? [b.tool_use_id] : [],
      ),
    );
    owed = toolUseIds(turn)
      .filter((id) => !present.has(id))
      .map((id) => ({ type: 'tool_result', tool_use_id: id, content: MISSING_TOOL_RESULT }));
    // An assistant turn with tool calls that ends the history still needs its results.
    if (owed.length > 0 && next?.role !== 'user') {
      out.push({ role: 'user', content: owed });
      owed = [];
    }
  });
  return out;
}
