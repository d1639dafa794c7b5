// A development provider: streams a deterministic description of what it received, so the
// whole product (sessions, images, routing, streaming) can be tried with no provider key.
import { isProviderConfigured, type ProviderConfig } from '../../config';
import { decodedLength, readDataUriHeader } from '../../images/data-uri';
import type { ChatRequest } from '../../openai/schema';
import type { Provider, StreamEvent, TargetCall } from '../types';

function describeImage(url: string): string {
  const header = readDataUriHeader(url);
  if (header) {
    const bytes = header.base64 ? decodedLength(header.payload) : header.payload.length;
    return `${header.mime || 'unknown'} inline, ${bytes} bytes`;
  }
  try {
    return `url ${new URL(url).host}`;
  } catch {
    return 'url';
  }
}

/** The text the echo provider answers with; pure, so tests can assert it exactly. */
export function describeRequest(req: ChatRequest, model: string): string {
  const roles = req.messages.map((m) => m.role);
  const images: string[] = [];
  let lastUser = '';
  req.messages.forEach((m, i) => {
    if (m.role !== 'user') return;
    if (typeof m.content === 'string') {
      lastUser = m.content;
      return;
    }
    const texts: string[] = [];
    for (const part of m.content) {
      if (part.type === 'text') texts.push(part.text);
      else images.push(`#${images.length + 1} in message ${i}: ${describeImage(part.image_url.url)}`);
    }
    lastUser = texts.join(' ');
  });
  const tools = req.tools?.map((t) => t.function.name) ?? [];
  const lines = [
    `Echo (${model}): ${req.messages.length} messages (${roles.join(', ')}).`,
    `Last user message: "${lastUser.slice(0, 200)}".`,
    images.length ? `Images: ${images.length} (${images.join('; ')}).` : 'Images: none.',
  ];
  if (tools.length) lines.push(`Tools: ${tools.join(', ')}.`);
  // After a server-side tool (generate_image), what the tool answered, so the flow can be followed.
  const last = req.messages.at(-1);
  if (last?.role === 'tool' && typeof last.content === 'string')
    lines.push(`Tool result: ${last.content.slice(0, 300)}`);
  return lines.join(' ');
}

/**
 * The image tool's name (shared/imagegen/tool.ts), spelled here so this provider does not load the
 * image generation modules; the tool-loop test through the dev app fails if they part.
 */
const IMAGE_TOOL = 'generate_image';

/** A user asking for a picture the way the README's "Try it locally" shows ("draw a red fox"). */
const DRAW_REQUEST = /^\s*(?:please\s+)?(?:draw|paint|sketch)\b/i;

/**
 * Pure. With the image tool offered and the latest message a user's that starts with "draw",
 * "paint" or "sketch", the echo model calls the tool with the user's words as the prompt, so
 * `make dev` shows the whole image flow with no key. Only the message's first text part is read:
 * the note of the session's generations rides after it.
 */
export function echoImageToolCall(req: ChatRequest): { name: string; arguments: string } | undefined {
  if (!req.tools?.some((t) => t.function.name === IMAGE_TOOL)) return undefined;
  const last = req.messages.at(-1);
  if (last?.role !== 'user') return undefined;
  const first =
    typeof last.content === 'string'
      ? last.content
      : last.content.find((p): p is Extract<typeof p, { type: 'text' }> => p.type === 'text')?.text;
  if (!first || !DRAW_REQUEST.test(first)) return undefined;
  return { name: IMAGE_TOOL, arguments: JSON.stringify({ prompt: first.trim().slice(0, 500) }) };
}

export function createEchoProvider(cfg: ProviderConfig): Provider {
  return {
    name: cfg.name,
    kind: 'echo',
    configured: isProviderConfigured(cfg),
    async *stream(call: TargetCall): AsyncGenerator<StreamEvent> {
      const toolCall = echoImageToolCall(call.request);
      if (toolCall) {
        yield { type: 'tool_call', index: 0, id: `call_echo_${call.request.messages.length}`, ...toolCall };
        yield { type: 'finish', reason: 'tool_calls' };
        return;
      }
      const text = describeRequest(call.request, call.model);
      // Word by word, like a model, so streaming is visible end to end.
      const words = text.match(/\S+\s*/g) ?? [];
      for (const word of words) {
        if (call.signal.aborted) return;
        yield { type: 'text', text: word };
      }
      yield { type: 'finish', reason: 'stop' };
      const prompt = Math.ceil(JSON.stringify(call.request.messages).length / 4);
      yield {
        type: 'usage',
        usage: {
          prompt_tokens: prompt,
          completion_tokens: words.length,
          total_tokens: prompt + words.length,
        },
      };
    },
  };
}
