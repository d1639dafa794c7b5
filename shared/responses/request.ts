// The OpenAI Responses request as the /v1/responses door accepts it, and its pure mapping onto
// the internal ChatRequest the turn core runs (one pipeline, two doors). Tolerant of unknown
// fields like the chat door (ElevenLabs adds `elevenlabs_extra_body`, `user_id`, ...).
import { z } from 'zod';
import { parseJsonBody } from '../chat/parse';
import { ValidationError } from '../errors';
import {
  type ChatMessage,
  type ChatRequest,
  type FunctionTool,
  type ToolChoice,
  tokenLimitSchema,
  type UserContentPart,
} from '../openai/schema';

const inputTextSchema = z.object({ type: z.literal('input_text'), text: z.string() });
const outputTextSchema = z.object({ type: z.literal('output_text'), text: z.string() });
const refusalSchema = z.object({ type: z.literal('refusal'), refusal: z.string() });
const inputImageSchema = z.object({
  type: z.literal('input_image'),
  image_url: z.string().min(1).nullish(),
  file_id: z.string().nullish(),
  detail: z.enum(['low', 'high', 'auto', 'original']).nullish(),
});

/** Items without `type` are messages (OpenAI's EasyInputMessage); give them one to discriminate on. */
function typedItem(v: unknown): unknown {
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && !('type' in v) && 'role' in v) {
    return { ...v, type: 'message' };
  }
  return v;
}

const messageItemSchema = z.object({
  type: z.literal('message'),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.union([
    z.string(),
    z.array(
      z.discriminatedUnion('type', [inputTextSchema, outputTextSchema, refusalSchema, inputImageSchema]),
    ),
  ]),
});

const functionCallItemSchema = z.object({
  type: z.literal('function_call'),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
});

const functionCallOutputItemSchema = z.object({
  type: z.literal('function_call_output'),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(z.discriminatedUnion('type', [inputTextSchema, inputImageSchema]))]),
});

/** Reasoning items a client replays from an earlier answer: accepted, not sent upstream. */
const reasoningItemSchema = z.object({ type: z.literal('reasoning') });

/** A reference to an item stored at the server: we store none (see previous_response_id). */
const itemReferenceSchema = z.object({ type: z.literal('item_reference'), id: z.string() });

const inputItemSchema = z.preprocess(
  typedItem,
  z.discriminatedUnion('type', [
    messageItemSchema,
    functionCallItemSchema,
    functionCallOutputItemSchema,
    reasoningItemSchema,
    itemReferenceSchema,
  ]),
);

const functionToolSchema = z.object({
  type: z.literal('function'),
  name: z.string().min(1),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});

const toolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), name: z.string().min(1) }),
]);

const textFormatSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    name: z.string().min(1),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().nullish(),
    strict: z.boolean().nullish(),
  }),
]);

export const responsesRequestSchema = z.object({
  model: z.string().min(1),
  // A string is one user message. Not a z.union: a union's error names only 'input', and a bad
  // item deep in the list must be named exactly.
  input: z.preprocess(
    (v) => (typeof v === 'string' ? [{ type: 'message', role: 'user', content: v }] : v),
    z.array(inputItemSchema, { error: 'expected a string or an array of input items' }),
  ),
  instructions: z.string().nullish(),
  stream: z.boolean().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  max_output_tokens: tokenLimitSchema,
  tools: z.array(functionToolSchema).nullish(),
  tool_choice: toolChoiceSchema.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  text: z.object({ format: textFormatSchema.nullish() }).nullish(),
  reasoning: z.object({ effort: z.string().nullish() }).nullish(),
  user: z.string().nullish(),
  user_id: z.string().nullish(),
  // OpenAI takes up to 16 string pairs; we only echo them, so other values are dropped, not refused.
  metadata: z.record(z.string(), z.unknown()).nullish(),
  store: z.boolean().nullish(),
  previous_response_id: z.string().nullish(),
  conversation: z.unknown().optional(),
  prompt: z.unknown().optional(),
  background: z.boolean().nullish(),
  elevenlabs_extra_body: z.record(z.string(), z.unknown()).nullish(),
});

export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;
export type ResponsesTool = z.infer<typeof functionToolSchema>;
export type ResponsesToolChoice = z.infer<typeof toolChoiceSchema>;

/** What the Response object repeats back from the request (OpenAI echoes these fields). */
export interface ResponsesEcho {
  instructions: string | null;
  metadata: Record<string, string>;
  tools: ResponsesTool[];
  toolChoice: ResponsesToolChoice;
  temperature: number | null;
  topP: number | null;
  maxOutputTokens: number | null;
  parallelToolCalls: boolean;
  user: string | undefined;
}

export interface ResponsesTurn {
  /** The turn as the core runs it. */
  request: ChatRequest;
  echo: ResponsesEcho;
}

function unsupported(param: string, message: string): ValidationError {
  return new ValidationError(message, param, 'unsupported_parameter');
}

/**
 * Fields that need state OpenAI keeps and this server does not: refused by name rather than
 * ignored, because ignoring them would answer a different question (a turn without its history).
 */
function refuseStatefulFields(req: ResponsesRequest): void {
  if (req.previous_response_id != null) {
    throw unsupported(
      'previous_response_id',
      "'previous_response_id' is not supported: this server keeps no responses. Send the whole conversation in 'input' (ElevenLabs does), with earlier answers as assistant messages and function_call items.",
    );
  }
  if (req.conversation != null) {
    throw unsupported(
      'conversation',
      "'conversation' is not supported: this server keeps no conversations. Send the whole conversation in 'input'.",
    );
  }
  if (req.prompt != null) {
    throw unsupported(
      'prompt',
      "'prompt' (a stored prompt template) is not supported; send the prompt as 'instructions'.",
    );
  }
  if (req.background === true) {
    throw unsupported('background', "'background' responses are not supported; stream the answer instead.");
  }
}

function imagePart(
  part: z.infer<typeof inputImageSchema>,
  param: string,
): Extract<UserContentPart, { type: 'image_url' }> {
  if (!part.image_url) {
    throw new ValidationError(
      part.file_id
        ? `'${param}.file_id' is not supported (this server has no file store); send the image as 'image_url' (an https URL or a data URL).`
        : `'${param}.image_url' is required.`,
      `${param}.image_url`,
      part.file_id ? 'unsupported_parameter' : 'invalid_value',
    );
  }
  // 'original' (no downscaling) is the nearest chat-completions detail at 'high'.
  const detail = part.detail === 'original' ? 'high' : part.detail;
  return { type: 'image_url', image_url: { url: part.image_url, ...(detail ? { detail } : {}) } };
}

function messageOf(item: z.infer<typeof messageItemSchema>, param: string): ChatMessage {
  const { role, content } = item;
  if (typeof content === 'string') {
    return role === 'assistant' ? { role, content } : { role, content };
  }
  const texts: { type: 'text'; text: string }[] = [];
  const userParts: UserContentPart[] = [];
  const assistantParts: ({ type: 'text'; text: string } | { type: 'refusal'; refusal: string })[] = [];
  content.forEach((part, i) => {
    const at = `${param}.content[${i}]`;
    switch (part.type) {
      case 'input_text':
      case 'output_text':
        texts.push({ type: 'text', text: part.text });
        userParts.push({ type: 'text', text: part.text });
        assistantParts.push({ type: 'text', text: part.text });
        return;
      case 'refusal':
        if (role !== 'assistant') {
          throw new ValidationError(
            `'${at}': a refusal part belongs to an assistant message.`,
            `${at}.type`,
            'invalid_value',
          );
        }
        assistantParts.push(part);
        return;
      case 'input_image':
        if (role !== 'user') {
          throw new ValidationError(
            `'${at}': images go in user messages only.`,
            `${at}.type`,
            'invalid_value',
          );
        }
        userParts.push(imagePart(part, at));
        return;
    }
  });
  if (role === 'user') return { role, content: userParts };
  if (role === 'assistant') return { role, content: assistantParts };
  return { role, content: texts };
}

function toolOutputText(
  output: z.infer<typeof functionCallOutputItemSchema>['output'],
  param: string,
): string {
  if (typeof output === 'string') return output;
  return output
    .map((part, i) => {
      if (part.type === 'input_image') {
        throw new ValidationError(
          `'${param}.output[${i}]': images in function outputs are not supported; put the image in a user message.`,
          `${param}.output[${i}].type`,
          'unsupported_parameter',
        );
      }
      return part.text;
    })
    .join('\n');
}

/** The input items as chat messages: function calls join the assistant turn right before them. */
function messagesOf(req: ResponsesRequest): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (req.instructions) messages.push({ role: 'system', content: req.instructions });
  req.input.forEach((item, i) => {
    const param = `input[${i}]`;
    switch (item.type) {
      case 'message':
        messages.push(messageOf(item, param));
        return;
      case 'function_call': {
        const call = {
          id: item.call_id,
          type: 'function' as const,
          function: { name: item.name, arguments: item.arguments },
        };
        const last = messages.at(-1);
        if (last?.role === 'assistant') last.tool_calls = [...(last.tool_calls ?? []), call];
        else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
        return;
      }
      case 'function_call_output':
        messages.push({
          role: 'tool',
          tool_call_id: item.call_id,
          content: toolOutputText(item.output, param),
        });
        return;
      case 'reasoning':
        return;
      case 'item_reference':
        throw unsupported(
          `${param}.id`,
          `'${param}' references a stored item; this server stores none. Send the item itself.`,
        );
    }
  });
  return messages;
}

function responseFormatOf(
  format: z.infer<typeof textFormatSchema> | null | undefined,
): Record<string, unknown> | undefined {
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  const { name, schema, description, strict } = format;
  return {
    type: 'json_schema',
    json_schema: {
      name,
      schema,
      ...(description != null ? { description } : {}),
      ...(strict != null ? { strict } : {}),
    },
  };
}

/** Pure: a validated Responses request as the core's ChatRequest, plus what the reply echoes. */
export function toResponsesTurn(req: ResponsesRequest): ResponsesTurn {
  refuseStatefulFields(req);
  const messages = messagesOf(req);
  if (messages.length === 0) {
    throw new ValidationError("'input' is empty and there are no 'instructions'.", 'input', 'invalid_value');
  }
  const tools: FunctionTool[] | undefined = req.tools?.map((t) => ({
    type: 'function',
    function: {
      name: t.name,
      ...(t.description != null ? { description: t.description } : {}),
      ...(t.parameters != null ? { parameters: t.parameters } : {}),
      ...(t.strict != null ? { strict: t.strict } : {}),
    },
  }));
  const toolChoice: ToolChoice | undefined =
    req.tool_choice == null
      ? undefined
      : typeof req.tool_choice === 'string'
        ? req.tool_choice
        : { type: 'function', function: { name: req.tool_choice.name } };
  const responseFormat = responseFormatOf(req.text?.format);
  const request: ChatRequest = {
    model: req.model,
    messages,
    stream: req.stream === true,
    ...(req.temperature != null ? { temperature: req.temperature } : {}),
    ...(req.top_p != null ? { top_p: req.top_p } : {}),
    ...(req.max_output_tokens != null ? { max_completion_tokens: req.max_output_tokens } : {}),
    ...(tools ? { tools } : {}),
    ...(toolChoice ? { tool_choice: toolChoice } : {}),
    ...(req.parallel_tool_calls != null ? { parallel_tool_calls: req.parallel_tool_calls } : {}),
    ...(responseFormat ? { response_format: responseFormat } : {}),
    ...(req.reasoning?.effort != null ? { reasoning_effort: req.reasoning.effort } : {}),
    ...(req.user != null ? { user: req.user } : {}),
    ...(req.user_id != null ? { user_id: req.user_id } : {}),
    ...(req.elevenlabs_extra_body != null ? { elevenlabs_extra_body: req.elevenlabs_extra_body } : {}),
  };
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.metadata ?? {})) if (typeof v === 'string') metadata[k] = v;
  return {
    request,
    echo: {
      instructions: req.instructions ?? null,
      metadata,
      tools: req.tools ?? [],
      toolChoice: req.tool_choice ?? 'auto',
      temperature: req.temperature ?? null,
      topP: req.top_p ?? null,
      maxOutputTokens: req.max_output_tokens ?? null,
      parallelToolCalls: req.parallel_tool_calls ?? true,
      user: req.user ?? undefined,
    },
  };
}

/** The door's parser: body -> validated request -> the core's turn, or a precise 400. */
export function parseResponsesRequest(body: Buffer | string): ResponsesTurn {
  return toResponsesTurn(parseJsonBody(body, responsesRequestSchema));
}
