// Turns provider StreamEvents into OpenAI `chat.completion.chunk`s (streaming) or one
// `chat.completion` (non-streaming). One id and one `created` per response.
import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { FinishReason, StreamEvent, Usage } from '../providers/types';

export interface ResponseIdentity {
  id: string;
  created: number;
  /** The model name reported to the client: what it asked for, so its own checks hold. */
  model: string;
}

/** `prefix` names the kind of object: `chatcmpl-` on the chat door, `resp_` on the Responses door. */
export function newResponseIdentity(model: string, now = Date.now(), prefix = 'chatcmpl-'): ResponseIdentity {
  return {
    id: `${prefix}${crypto.randomUUID().replaceAll('-', '')}`,
    created: Math.floor(now / 1000),
    model,
  };
}

type ChunkDelta = ChatCompletionChunk.Choice.Delta & { reasoning_content?: string };

/**
 * Stateful encoder for one streamed response. `role: "assistant"` goes on the first chunk only;
 * a finish chunk is always produced (even if the upstream forgot one); usage only on request.
 */
export class ChunkEncoder {
  private roleSent = false;
  private finishReason: FinishReason | undefined;
  private sawToolCall = false;
  private usage: Usage | undefined;

  constructor(
    private readonly identity: ResponseIdentity,
    private readonly includeUsage: boolean,
  ) {}

  private chunk(delta: ChunkDelta, finish: FinishReason | null = null): ChatCompletionChunk {
    if (!this.roleSent) {
      delta = { role: 'assistant', ...delta };
      this.roleSent = true;
    }
    return {
      id: this.identity.id,
      object: 'chat.completion.chunk',
      created: this.identity.created,
      model: this.identity.model,
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    };
  }

  /** A content chunk that does not come from a provider (buffer words). */
  text(text: string): ChatCompletionChunk {
    return this.chunk({ content: text });
  }

  /** Chunks to send for one event (usage and finish are held until `end`). */
  encode(event: StreamEvent): ChatCompletionChunk | undefined {
    switch (event.type) {
      case 'text':
        return event.text === '' && this.roleSent ? undefined : this.chunk({ content: event.text });
      case 'reasoning':
        return this.chunk({ reasoning_content: event.text });
      case 'tool_call': {
        this.sawToolCall = true;
        const call: ChatCompletionChunk.Choice.Delta.ToolCall = { index: event.index };
        if (event.id !== undefined) {
          call.id = event.id;
          call.type = 'function';
        }
        const fn: { name?: string; arguments?: string } = {};
        if (event.name !== undefined) fn.name = event.name;
        // A starting tool call always carries an arguments string, as OpenAI's own streams do.
        if (event.arguments !== undefined) fn.arguments = event.arguments;
        else if (event.id !== undefined) fn.arguments = '';
        call.function = fn;
        return this.chunk({ tool_calls: [call] });
      }
      case 'finish':
        this.finishReason = event.reason;
        return undefined;
      case 'usage':
        this.usage = event.usage;
        return undefined;
      default: {
        const never: never = event;
        throw new Error(`unknown stream event ${JSON.stringify(never)}`);
      }
    }
  }

  /** The closing chunks: finish_reason, then usage if the client asked for it. */
  end(): ChatCompletionChunk[] {
    const reason = this.finishReason ?? (this.sawToolCall ? 'tool_calls' : 'stop');
    const out = [this.chunk({}, reason)];
    if (this.includeUsage) {
      out.push({
        id: this.identity.id,
        object: 'chat.completion.chunk',
        created: this.identity.created,
        model: this.identity.model,
        choices: [],
        usage: toOpenAIUsage(this.usage),
      });
    }
    return out;
  }

  get finalUsage(): Usage | undefined {
    return this.usage;
  }

  get finalReason(): FinishReason | undefined {
    return this.finishReason;
  }
}

function toOpenAIUsage(u: Usage | undefined): NonNullable<ChatCompletionChunk['usage']> {
  const usage: NonNullable<ChatCompletionChunk['usage']> = {
    prompt_tokens: u?.prompt_tokens ?? 0,
    completion_tokens: u?.completion_tokens ?? 0,
    total_tokens: u?.total_tokens ?? 0,
  };
  if (u?.cached_tokens !== undefined) usage.prompt_tokens_details = { cached_tokens: u.cached_tokens };
  return usage;
}

/** Folds a whole event stream into one non-streaming `chat.completion`. */
export class CompletionAggregator {
  private content = '';
  private reasoning = '';
  private readonly toolCalls = new Map<number, { id: string; name: string; arguments: string }>();
  private finish: FinishReason | undefined;
  usage: Usage | undefined;

  add(event: StreamEvent): void {
    switch (event.type) {
      case 'text':
        this.content += event.text;
        return;
      case 'reasoning':
        this.reasoning += event.text;
        return;
      case 'tool_call': {
        const call = this.toolCalls.get(event.index) ?? { id: '', name: '', arguments: '' };
        if (event.id !== undefined) call.id = event.id;
        if (event.name !== undefined) call.name += event.name;
        if (event.arguments !== undefined) call.arguments += event.arguments;
        this.toolCalls.set(event.index, call);
        return;
      }
      case 'finish':
        this.finish = event.reason;
        return;
      case 'usage':
        this.usage = event.usage;
        return;
      default: {
        const never: never = event;
        throw new Error(`unknown stream event ${JSON.stringify(never)}`);
      }
    }
  }

  result(identity: ResponseIdentity): ChatCompletion {
    const toolCalls = [...this.toolCalls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, c]) => ({
        id: c.id,
        type: 'function' as const,
        function: { name: c.name, arguments: c.arguments },
      }));
    const message: ChatCompletion.Choice['message'] & { reasoning_content?: string } = {
      role: 'assistant',
      content: this.content === '' && toolCalls.length > 0 ? null : this.content,
      refusal: null,
    };
    if (toolCalls.length > 0) message.tool_calls = toolCalls;
    if (this.reasoning !== '') message.reasoning_content = this.reasoning;
    return {
      id: identity.id,
      object: 'chat.completion',
      created: identity.created,
      model: identity.model,
      choices: [
        {
          index: 0,
          message,
          finish_reason: this.finish ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
          logprobs: null,
        },
      ],
      usage: toOpenAIUsage(this.usage),
    };
  }
}
