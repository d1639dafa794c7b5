// ChatRequest -> the body we send to OpenAI or an OpenAI-compatible server. Pure.
import type { ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import type { ChatMessage, ChatRequest } from '../../openai/schema';
import { callSettings } from '../call-settings';
import type { TargetCall } from '../types';

export interface OpenAIRequestOptions extends NonNullable<TargetCall['overrides']> {
  /** OpenAI itself takes max_completion_tokens; many compatible servers only know max_tokens. */
  dialect: 'openai' | 'compatible';
}

/**
 * Reasoning models (o-series, gpt-5 family except the chat variants) reject temperature, top_p
 * and penalties, and only take max_completion_tokens.
 */
export function isReasoningModel(model: string): boolean {
  const m = model.toLowerCase().replace(/^openai\//, '');
  return /^o\d/.test(m) || (/^gpt-5/.test(m) && !/^gpt-5(\.\d+)?-chat/.test(m));
}

function toUpstreamMessage(m: ChatMessage): ChatCompletionCreateParamsStreaming['messages'][number] {
  switch (m.role) {
    case 'system':
    case 'developer':
      return { role: m.role, content: m.content, ...(m.name ? { name: m.name } : {}) };
    case 'user':
      return { role: 'user', content: m.content, ...(m.name ? { name: m.name } : {}) };
    case 'assistant': {
      // reasoning_content is ours to show, not OpenAI's to receive: drop it from history.
      const out: ChatCompletionCreateParamsStreaming['messages'][number] & { role: 'assistant' } = {
        role: 'assistant',
        content: m.content ?? null,
      };
      if (m.tool_calls?.length) out.tool_calls = m.tool_calls;
      if (m.name) out.name = m.name;
      return out;
    }
    case 'tool':
      return { role: 'tool', tool_call_id: m.tool_call_id, content: m.content };
    default: {
      const never: never = m;
      throw new Error(`unknown role ${JSON.stringify(never)}`);
    }
  }
}

/** Whether the call leaves out temperature and top_p (OpenAI's reasoning models refuse them). */
export function dropsSampling(model: string, dialect: OpenAIRequestOptions['dialect']): boolean {
  return dialect === 'openai' && isReasoningModel(model);
}

export function toOpenAIRequest(
  req: ChatRequest,
  model: string,
  opts: OpenAIRequestOptions,
): ChatCompletionCreateParamsStreaming {
  const reasoning = dropsSampling(model, opts.dialect);
  const settings = callSettings(req, opts);
  const body: ChatCompletionCreateParamsStreaming = {
    model,
    messages: req.messages.map(toUpstreamMessage),
    stream: true,
    // Always ask for usage: accounting needs it even when the client did not ask.
    stream_options: { include_usage: true },
  };
  if (settings.maxTokens !== undefined) {
    if (opts.dialect === 'openai') body.max_completion_tokens = settings.maxTokens;
    else body.max_tokens = settings.maxTokens;
  }
  if (!reasoning) {
    if (settings.temperature !== undefined) body.temperature = settings.temperature;
    if (settings.topP !== undefined) body.top_p = settings.topP;
    if (req.presence_penalty != null) body.presence_penalty = req.presence_penalty;
    if (req.frequency_penalty != null) body.frequency_penalty = req.frequency_penalty;
  }
  if (req.stop != null) body.stop = req.stop;
  if (req.seed != null) body.seed = req.seed;
  if (req.tools?.length) {
    body.tools = req.tools.map((t) => ({
      type: 'function',
      function: {
        name: t.function.name,
        ...(t.function.description !== undefined ? { description: t.function.description } : {}),
        ...(t.function.parameters !== undefined ? { parameters: t.function.parameters } : {}),
        ...(t.function.strict != null ? { strict: t.function.strict } : {}),
      },
    }));
    if (req.tool_choice != null) body.tool_choice = req.tool_choice;
    if (req.parallel_tool_calls != null) body.parallel_tool_calls = req.parallel_tool_calls;
  }
  if (req.response_format != null) {
    body.response_format = req.response_format as unknown as NonNullable<
      ChatCompletionCreateParamsStreaming['response_format']
    >;
  }
  if (reasoning && req.reasoning_effort != null) {
    body.reasoning_effort = req.reasoning_effort as NonNullable<
      ChatCompletionCreateParamsStreaming['reasoning_effort']
    >;
  }
  // ElevenLabs sends `user_id`; OpenAI's field for it is `user`.
  const user = req.user ?? req.user_id ?? undefined;
  if (user !== undefined && opts.dialect === 'openai') body.user = user;
  return body;
}
