// Turns provider StreamEvents into OpenAI Responses output: named SSE events (streaming) or one
// `response` object (not streaming). One builder holds the output items for both, so the
// streamed `response.completed` and the non-streamed reply are the same object.
import type {
  FunctionTool,
  Response,
  ResponseError,
  ResponseFunctionToolCall,
  ResponseOutputItem,
  ResponseOutputMessage,
  ResponseReasoningItem,
  ResponseStreamEvent,
  ResponseUsage,
} from 'openai/resources/responses/responses';
import type { OpenAIErrorBody } from '../errors';
import { newResponseIdentity, type ResponseIdentity } from '../openai/chunks';
import type { FinishReason, StreamEvent, Usage } from '../providers/types';
import type { ResponsesEcho } from './request';

/** A Responses answer's identity: the chat door's, with a "resp_" id (item ids derive from it). */
export type ResponsesIdentity = ResponseIdentity;

export function newResponsesIdentity(model: string, now = Date.now()): ResponsesIdentity {
  return newResponseIdentity(model, now, 'resp_');
}

type ItemStatus = 'in_progress' | 'completed' | 'incomplete';

interface TextItem {
  kind: 'message' | 'reasoning';
  outputIndex: number;
  id: string;
  text: string;
  open: boolean;
  /** in_progress while open; how it ended once closed. */
  status: ItemStatus;
}

interface CallItem {
  kind: 'function_call';
  outputIndex: number;
  id: string;
  callId: string;
  name: string;
  arguments: string;
  open: boolean;
  status: ItemStatus;
}

type Item = TextItem | CallItem;

/** Our error bodies as a Response's `error`: OpenAI's code set is closed, so ours goes in `type`. */
function responseError(error: OpenAIErrorBody['error']): ResponseError {
  return {
    code: error.type === 'rate_limit_error' ? 'rate_limit_exceeded' : 'server_error',
    message: error.message,
    type: error.code ?? error.type,
    param: error.param,
  };
}

function responseUsage(u: Usage | undefined): ResponseUsage {
  return {
    input_tokens: u?.prompt_tokens ?? 0,
    input_tokens_details: { cached_tokens: u?.cached_tokens ?? 0, cache_write_tokens: 0 },
    output_tokens: u?.completion_tokens ?? 0,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: u?.total_tokens ?? 0,
  };
}

/** Events without their sequence number; the builder numbers them as it emits. */
type Unnumbered<E> = E extends ResponseStreamEvent ? Omit<E, 'sequence_number'> : never;
export type ResponsesEventSink = (event: ResponseStreamEvent) => void;

/**
 * The state of one response: its output items, in order, open or done. With a sink it emits
 * every event a streaming client needs, in the order OpenAI's SDKs accumulate; without one it
 * only folds (the non-streamed reply).
 */
export class ResponseBuilder {
  private readonly items: Item[] = [];
  private readonly calls = new Map<number, CallItem>();
  private current: TextItem | undefined;
  private sequence = 0;
  private finishReason: FinishReason | undefined;
  private sawToolCall = false;
  private usage: Usage | undefined;

  constructor(
    private readonly identity: ResponsesIdentity,
    private readonly echo: ResponsesEcho,
    private readonly sink?: ResponsesEventSink,
  ) {}

  private emit(event: Unnumbered<ResponseStreamEvent>): void {
    this.sink?.({ ...event, sequence_number: this.sequence++ } as ResponseStreamEvent);
  }

  /** response.created and response.in_progress: the stream's first two events. */
  start(): void {
    if (!this.sink) return;
    this.emit({ type: 'response.created', response: this.snapshot('in_progress') });
    this.emit({ type: 'response.in_progress', response: this.snapshot('in_progress') });
  }

  add(event: StreamEvent): void {
    switch (event.type) {
      case 'text':
        this.appendText('message', event.text);
        return;
      case 'reasoning':
        this.appendText('reasoning', event.text);
        return;
      case 'tool_call':
        this.toolCall(event);
        return;
      case 'finish':
        this.finishReason = event.reason;
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

  private itemId(prefix: string): string {
    return `${prefix}_${this.identity.id.slice('resp_'.length)}${this.items.length}`;
  }

  private appendText(kind: TextItem['kind'], text: string): void {
    if (text === '') return;
    let item = this.current;
    if (item?.kind !== kind) {
      this.closeCurrent('completed');
      item = {
        kind,
        outputIndex: this.items.length,
        id: this.itemId(kind === 'message' ? 'msg' : 'rs'),
        text: '',
        open: true,
        status: 'in_progress',
      };
      this.items.push(item);
      this.current = item;
      if (this.sink) {
        this.emit({
          type: 'response.output_item.added',
          output_index: item.outputIndex,
          item: this.itemOf(item),
        });
        this.emit({
          type: 'response.content_part.added',
          item_id: item.id,
          output_index: item.outputIndex,
          content_index: 0,
          part:
            kind === 'message'
              ? { type: 'output_text', text: '', annotations: [] }
              : { type: 'reasoning_text', text: '' },
        });
      }
    }
    item.text += text;
    const at = { item_id: item.id, output_index: item.outputIndex, content_index: 0, delta: text };
    if (kind === 'message') this.emit({ type: 'response.output_text.delta', ...at, logprobs: [] });
    else this.emit({ type: 'response.reasoning_text.delta', ...at });
  }

  private toolCall(event: Extract<StreamEvent, { type: 'tool_call' }>): void {
    this.sawToolCall = true;
    let call = this.calls.get(event.index);
    if (!call) {
      // Text before a tool call is a finished message; text after it opens a new one.
      this.closeCurrent('completed');
      call = {
        kind: 'function_call',
        outputIndex: this.items.length,
        id: this.itemId('fc'),
        callId: event.id ?? `call_${this.identity.id.slice('resp_'.length)}${this.items.length}`,
        name: event.name ?? '',
        arguments: '',
        open: true,
        status: 'in_progress',
      };
      this.items.push(call);
      this.calls.set(event.index, call);
      if (this.sink)
        this.emit({
          type: 'response.output_item.added',
          output_index: call.outputIndex,
          item: this.itemOf(call),
        });
    } else if (event.name !== undefined) {
      call.name += event.name;
    }
    if (event.arguments) {
      call.arguments += event.arguments;
      this.emit({
        type: 'response.function_call_arguments.delta',
        item_id: call.id,
        output_index: call.outputIndex,
        delta: event.arguments,
      });
    }
  }

  private closeCurrent(status: ItemStatus): void {
    const item = this.current;
    this.current = undefined;
    if (!item?.open) return;
    item.open = false;
    item.status = status;
    if (!this.sink) return;
    const at = { item_id: item.id, output_index: item.outputIndex, content_index: 0 };
    if (item.kind === 'message') {
      this.emit({ type: 'response.output_text.done', ...at, text: item.text, logprobs: [] });
      this.emit({
        type: 'response.content_part.done',
        ...at,
        part: { type: 'output_text', text: item.text, annotations: [] },
      });
    } else {
      this.emit({ type: 'response.reasoning_text.done', ...at, text: item.text });
      this.emit({
        type: 'response.content_part.done',
        ...at,
        part: { type: 'reasoning_text', text: item.text },
      });
    }
    this.emit({
      type: 'response.output_item.done',
      output_index: item.outputIndex,
      item: this.itemOf(item, status),
    });
  }

  private closeCall(call: CallItem, status: ItemStatus): void {
    if (!call.open) return;
    call.open = false;
    call.status = status;
    // A tool without arguments streams none (Anthropic sends ""): clients JSON.parse this.
    if (call.arguments === '') call.arguments = '{}';
    if (!this.sink) return;
    this.emit({
      type: 'response.function_call_arguments.done',
      item_id: call.id,
      output_index: call.outputIndex,
      arguments: call.arguments,
    });
    this.emit({
      type: 'response.output_item.done',
      output_index: call.outputIndex,
      item: this.itemOf(call, status),
    });
  }

  private itemOf(
    item: Item,
    status: ItemStatus = item.open ? 'in_progress' : 'completed',
  ): ResponseOutputItem {
    switch (item.kind) {
      case 'message': {
        const message: ResponseOutputMessage = {
          id: item.id,
          type: 'message',
          role: 'assistant',
          status,
          content:
            status === 'in_progress' && item.text === ''
              ? []
              : [{ type: 'output_text', text: item.text, annotations: [] }],
        };
        return message;
      }
      case 'reasoning': {
        const reasoning: ResponseReasoningItem = {
          id: item.id,
          type: 'reasoning',
          summary: [],
          status,
          content:
            status === 'in_progress' && item.text === '' ? [] : [{ type: 'reasoning_text', text: item.text }],
        };
        return reasoning;
      }
      case 'function_call': {
        const call: ResponseFunctionToolCall = {
          id: item.id,
          type: 'function_call',
          call_id: item.callId,
          name: item.name,
          arguments: item.arguments,
          status,
        };
        return call;
      }
    }
  }

  private snapshot(status: NonNullable<Response['status']>, error: ResponseError | null = null): Response {
    const done = status !== 'in_progress';
    const output = done
      ? this.items.map((item) => this.itemOf(item, item.open ? 'incomplete' : item.status))
      : [];
    const reason = this.finishReason;
    const tools: FunctionTool[] = this.echo.tools.map((t) => ({
      type: 'function',
      name: t.name,
      description: t.description ?? null,
      parameters: t.parameters ?? null,
      strict: t.strict ?? null,
    }));
    const response: Response = {
      id: this.identity.id,
      object: 'response',
      created_at: this.identity.created,
      status,
      error,
      incomplete_details:
        status === 'incomplete'
          ? { reason: reason === 'content_filter' ? 'content_filter' : 'max_output_tokens' }
          : null,
      instructions: this.echo.instructions,
      metadata: this.echo.metadata,
      model: this.identity.model,
      output,
      output_text: this.items
        .filter((i): i is TextItem => i.kind === 'message')
        .map((i) => i.text)
        .join(''),
      parallel_tool_calls: this.echo.parallelToolCalls,
      temperature: this.echo.temperature,
      top_p: this.echo.topP,
      max_output_tokens: this.echo.maxOutputTokens,
      tool_choice:
        typeof this.echo.toolChoice === 'string' ? this.echo.toolChoice : { ...this.echo.toolChoice },
      tools,
      access_programs: null,
      previous_response_id: null,
      text: { format: { type: 'text' } },
      truncation: 'disabled',
      ...(this.echo.user !== undefined ? { user: this.echo.user } : {}),
    };
    if (done) {
      response.completed_at = status === 'completed' ? Math.floor(Date.now() / 1000) : null;
      response.usage = responseUsage(this.usage);
    }
    return response;
  }

  /** Closes every item and ends the response: completed, or incomplete when the answer was cut. */
  finish(): Response {
    const reason = this.finalReason;
    const cut = reason === 'length' || reason === 'content_filter';
    const itemStatus: ItemStatus = cut ? 'incomplete' : 'completed';
    this.closeCurrent(itemStatus);
    for (const call of this.calls.values()) this.closeCall(call, itemStatus);
    const response = this.snapshot(cut ? 'incomplete' : 'completed');
    if (cut) this.emit({ type: 'response.incomplete', response });
    else this.emit({ type: 'response.completed', response });
    return response;
  }

  /** Ends the response as failed (the upstream broke mid-answer): what was said so far, and why. */
  fail(error: OpenAIErrorBody['error']): Response {
    const response = this.snapshot('failed', responseError(error));
    this.emit({ type: 'response.failed', response });
    return response;
  }

  get finalUsage(): Usage | undefined {
    return this.usage;
  }

  /** The finish reason in chat-completions terms (for the turn record). */
  get finalReason(): FinishReason {
    return this.finishReason ?? (this.sawToolCall ? 'tool_calls' : 'stop');
  }
}

/** One SSE event as OpenAI sends Responses events: a named event line and its JSON. */
export function sseEvent(event: ResponseStreamEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * The streaming side of the door: each call returns the SSE text to write for it (possibly
 * empty). `start` before anything else; then `text`/`encode`; then exactly one of `end` or `error`.
 */
export class ResponsesStreamEncoder {
  private out = '';
  private readonly builder: ResponseBuilder;

  constructor(identity: ResponsesIdentity, echo: ResponsesEcho) {
    this.builder = new ResponseBuilder(identity, echo, (event) => {
      this.out += sseEvent(event);
    });
  }

  private flush(): string {
    const s = this.out;
    this.out = '';
    return s;
  }

  start(): string {
    this.builder.start();
    return this.flush();
  }

  /** Text that does not come from a provider (buffer words). */
  text(text: string): string {
    this.builder.add({ type: 'text', text });
    return this.flush();
  }

  encode(event: StreamEvent): string {
    this.builder.add(event);
    return this.flush();
  }

  end(): string {
    this.builder.finish();
    return this.flush();
  }

  error(body: OpenAIErrorBody): string {
    this.builder.fail(body.error);
    return this.flush();
  }

  get finalUsage(): Usage | undefined {
    return this.builder.finalUsage;
  }

  get finalReason(): FinishReason {
    return this.builder.finalReason;
  }
}

/** The non-streaming side: folds the events into one `response` object. */
export class ResponsesAggregator {
  private readonly builder: ResponseBuilder;

  constructor(identity: ResponsesIdentity, echo: ResponsesEcho) {
    this.builder = new ResponseBuilder(identity, echo);
  }

  add(event: StreamEvent): void {
    this.builder.add(event);
  }

  result(): Response {
    return this.builder.finish();
  }

  get usage(): Usage | undefined {
    return this.builder.finalUsage;
  }

  get finalReason(): FinishReason {
    return this.builder.finalReason;
  }
}
