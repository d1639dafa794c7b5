// What an interrupted turn consumed, so a barge-in is accounted like any turn: the upstream's
// own usage report when it sent one before the cut, otherwise an estimate (about 4 characters
// per token of text; each image at the cost of a 4:3 photo at the normalized size cap).
import { fitWithinCaps } from '../images/fit';
import { DEFAULT_IMAGE_LIMITS } from '../images/limits';
import { estimateImageTokens, type VisionProvider } from '../images/tokens';
import type { ChatRequest } from '../openai/schema';
import type { FinishReason, ProviderKind, StreamEvent, Usage } from '../providers/types';

/** The usual rule of thumb for English text with the BPE tokenizers of all three providers. */
const CHARS_PER_TOKEN = 4;

/** A camera photo after normalization (1238 x 928 with the default caps): the common case. */
const TYPICAL_IMAGE = fitWithinCaps(
  { width: 4000, height: 3000 },
  DEFAULT_IMAGE_LIMITS.maxLongEdge,
  DEFAULT_IMAGE_LIMITS.maxPixels,
);

const tokensOf = (chars: number) => Math.ceil(chars / CHARS_PER_TOKEN);

function visionProvider(name: string, kind: ProviderKind | undefined): VisionProvider {
  if (kind === 'anthropic') return 'anthropic';
  return name === 'gemini' ? 'gemini' : 'openai';
}

/** Prompt tokens of a request, estimated: text, tool definitions and tool calls, images. */
export function estimatePromptTokens(request: ChatRequest, provider: VisionProvider): number {
  let chars = request.tools ? JSON.stringify(request.tools).length : 0;
  let images = 0;
  for (const m of request.messages) {
    if (typeof m.content === 'string') chars += m.content.length;
    else if (Array.isArray(m.content)) {
      for (const part of m.content) {
        if (part.type === 'text') chars += part.text.length;
        else if (part.type === 'refusal') chars += part.refusal.length;
        else images += 1;
      }
    }
    if (m.role === 'assistant')
      for (const call of m.tool_calls ?? [])
        chars += call.function.name.length + call.function.arguments.length;
  }
  const perImage = estimateImageTokens(TYPICAL_IMAGE.width, TYPICAL_IMAGE.height, provider);
  return tokensOf(chars) + images * perImage;
}

/**
 * Watches a turn's upstream events and says what the turn has used so far, and how it finished.
 * The turn core's one observer on the per-token path: counters and fields, no allocation.
 */
export class UsageMeter {
  private streamedChars = 0;
  private reported: Usage | undefined;
  private events = 0;
  private finish: FinishReason | undefined;
  private sawToolCall = false;

  add(event: StreamEvent): void {
    this.events += 1;
    switch (event.type) {
      case 'text':
      case 'reasoning':
        this.streamedChars += event.text.length;
        return;
      case 'tool_call':
        this.sawToolCall = true;
        this.streamedChars += (event.name?.length ?? 0) + (event.arguments?.length ?? 0);
        return;
      case 'usage':
        this.reported = event.usage;
        return;
      case 'finish':
        this.finish = event.reason;
        return;
      default: {
        const never: never = event;
        throw new Error(`unknown stream event ${JSON.stringify(never)}`);
      }
    }
  }

  /** The usage the upstream reported, if it did. */
  get usage(): Usage | undefined {
    return this.reported;
  }

  /** The upstream's finish reason; without one, what the client was told (tool calls or stop). */
  get finishReason(): FinishReason {
    return this.finish ?? (this.sawToolCall ? 'tool_calls' : 'stop');
  }

  /**
   * The usage of a turn cut short. Undefined when the upstream produced no event before the cut:
   * whether a provider bills a prompt it never answered cannot be known from here.
   */
  partial(
    request: ChatRequest,
    provider: { name: string; kind: ProviderKind | undefined },
  ): { usage: Usage; estimated: boolean } | undefined {
    if (this.reported) return { usage: this.reported, estimated: false };
    if (this.events === 0) return undefined;
    const prompt = estimatePromptTokens(request, visionProvider(provider.name, provider.kind));
    const completion = tokensOf(this.streamedChars);
    return {
      usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
      estimated: true,
    };
  }
}
