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
  return lines.join(' ');
}

export function createEchoProvider(cfg: ProviderConfig): Provider {
  return {
    name: cfg.name,
    kind: 'echo',
    configured: isProviderConfigured(cfg),
    async *stream(call: TargetCall): AsyncGenerator<StreamEvent> {
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
