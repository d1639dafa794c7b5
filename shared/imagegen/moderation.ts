// Prompt moderation before any money is spent: OpenAI's moderation endpoint through the official
// SDK (free of charge). A flagged prompt is refused with the categories that flagged it; an
// endpoint that fails refuses too (503 moderation_unavailable), since it was asked for.
import { moderationUnavailable, promptRefused } from './errors';

export type ModeratePrompt = (prompt: string, signal?: AbortSignal) => Promise<void>;

export interface OpenAIModerationOptions {
  apiKey: string;
  baseURL?: string;
  model: string;
  timeoutMs?: number;
}

export function createOpenAIModeration(opts: OpenAIModerationOptions): ModeratePrompt {
  // The SDK is loaded on first use: most turns never generate an image.
  let client: Promise<import('openai').default> | undefined;
  const getClient = () => {
    client ??= import('openai').then(
      ({ default: OpenAI }) =>
        new OpenAI({
          apiKey: opts.apiKey,
          ...(opts.baseURL ? { baseURL: opts.baseURL } : {}),
          maxRetries: 1,
          timeout: opts.timeoutMs ?? 5000,
        }),
    );
    return client;
  };
  return async (prompt, signal) => {
    let flagged: string[] | undefined;
    try {
      const openai = await getClient();
      const out = await openai.moderations.create(
        { model: opts.model, input: prompt },
        signal ? { signal } : {},
      );
      const result = out.results[0];
      if (result?.flagged) {
        flagged = Object.entries(result.categories ?? {})
          .filter(([, on]) => on === true)
          .map(([name]) => name);
      }
    } catch (err) {
      throw moderationUnavailable(err);
    }
    if (flagged) throw promptRefused(flagged);
  };
}

/** No moderation configured. */
export const noModeration: ModeratePrompt = async () => {};
