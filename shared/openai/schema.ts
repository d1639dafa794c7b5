// The OpenAI Chat Completions request as we accept it: validated with zod, tolerant of unknown
// fields (ElevenLabs adds `elevenlabs_extra_body`, `user_id`, ...), strict on the ones we use.
import { z } from 'zod';

export const textPartSchema = z.object({ type: z.literal('text'), text: z.string() });

export const imageUrlPartSchema = z.object({
  type: z.literal('image_url'),
  image_url: z.object({
    url: z.string().min(1),
    detail: z.enum(['low', 'high', 'auto']).optional(),
  }),
});

const refusalPartSchema = z.object({ type: z.literal('refusal'), refusal: z.string() });

const userPartSchema = z.discriminatedUnion('type', [textPartSchema, imageUrlPartSchema]);

const toolCallSchema = z.object({
  id: z.string(),
  type: z.literal('function').default('function'),
  function: z.object({ name: z.string(), arguments: z.string().default('') }),
});

const systemMessageSchema = z.object({
  role: z.enum(['system', 'developer']),
  content: z.union([z.string(), z.array(textPartSchema)]),
  name: z.string().optional(),
});

const userMessageSchema = z.object({
  role: z.literal('user'),
  content: z.union([z.string(), z.array(userPartSchema)]),
  name: z.string().optional(),
});

const assistantMessageSchema = z.object({
  role: z.literal('assistant'),
  content: z
    .union([z.string(), z.array(z.discriminatedUnion('type', [textPartSchema, refusalPartSchema]))])
    .nullish(),
  tool_calls: z.array(toolCallSchema).optional(),
  reasoning_content: z.string().nullish(),
  name: z.string().optional(),
});

const toolMessageSchema = z.object({
  role: z.literal('tool'),
  tool_call_id: z.string(),
  content: z.union([z.string(), z.array(textPartSchema)]),
});

export const messageSchema = z.discriminatedUnion('role', [
  systemMessageSchema,
  userMessageSchema,
  assistantMessageSchema,
  toolMessageSchema,
]);

const functionToolSchema = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().min(1),
    // OpenAI accepts `description: null` (some agent builders send it for tools without one);
    // read as absent, so no provider is sent a null.
    description: z
      .string()
      .nullish()
      .transform((d) => d ?? undefined)
      .optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullish(),
  }),
});

const toolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
]);

/**
 * ElevenLabs sends `max_tokens: -1` for "no limit" on every Custom LLM turn (found by the
 * parser fuzzer), and other clients send 0 for the same: any number <= 0 means absent. Anything
 * else must be a positive integer.
 */
export const tokenLimitSchema = z.preprocess(
  (v) => (typeof v === 'number' && v <= 0 ? null : v),
  z.number().int().positive().nullish(),
);

export const chatRequestSchema = z.object({
  model: z.string().min(1),
  messages: z.array(messageSchema).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  max_tokens: tokenLimitSchema,
  max_completion_tokens: tokenLimitSchema,
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  presence_penalty: z.number().nullish(),
  frequency_penalty: z.number().nullish(),
  seed: z.number().int().nullish(),
  n: z.literal(1).nullish(),
  tools: z.array(functionToolSchema).nullish(),
  tool_choice: toolChoiceSchema.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: z.record(z.string(), z.unknown()).nullish(),
  reasoning_effort: z.string().nullish(),
  user: z.string().nullish(),
  user_id: z.string().nullish(),
  elevenlabs_extra_body: z.record(z.string(), z.unknown()).nullish(),
});

export type ChatRequest = z.infer<typeof chatRequestSchema>;
export type ChatMessage = z.infer<typeof messageSchema>;
export type UserMessage = z.infer<typeof userMessageSchema>;
export type AssistantMessage = z.infer<typeof assistantMessageSchema>;
export type ToolMessage = z.infer<typeof toolMessageSchema>;
export type SystemMessage = z.infer<typeof systemMessageSchema>;
export type UserContentPart = z.infer<typeof userPartSchema>;
export type ImageUrlPart = z.infer<typeof imageUrlPartSchema>;
export type ToolCall = z.infer<typeof toolCallSchema>;
export type FunctionTool = z.infer<typeof functionToolSchema>;
export type ToolChoice = z.infer<typeof toolChoiceSchema>;

/** Joins a text-only content value into one string. */
export function contentText(
  content: string | ReadonlyArray<{ type: string; text?: string }> | null | undefined,
): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content
    .map((p) => (p.type === 'text' ? (p.text ?? '') : ''))
    .filter((t) => t.length > 0)
    .join('\n');
}
