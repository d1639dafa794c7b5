// Recognizes a content-policy refusal in what an OpenAI-style images endpoint answered, so it
// becomes the user's answer (ImageRefusedError) instead of a provider failure. Pure.
import { ImageRefusedError } from '../generation-errors';

/** Codes OpenAI sends when its safety system refuses a prompt or an image. */
const REFUSAL_CODES = new Set(['content_policy_violation', 'moderation_blocked', 'content_filter']);

/**
 * Wording compatible servers use when they refuse on content grounds (Together: "NSFW content
 * detected"; Google: "... Responsible AI practices", "safety filters"). Narrow on purpose: a
 * parameter error that merely mentions a field such as `moderation` must stay a 400.
 */
const REFUSAL_WORDING =
  /nsfw|safety (system|filter|polic)|content[ _-]?polic|content[ _-]?filter|responsible ai/i;

interface SdkErrorShape {
  status?: unknown;
  code?: unknown;
  type?: unknown;
  message?: unknown;
  error?: unknown;
}

function messageOf(e: SdkErrorShape): string {
  const body = e.error as { message?: unknown; error?: { message?: unknown } } | undefined;
  const raw = body?.error?.message ?? body?.message ?? e.message ?? '';
  return String(raw).replace(/\s+/g, ' ').slice(0, 300);
}

/**
 * The refusal in an SDK error, if it is one: a 400 (or 422) whose code is one of OpenAI's
 * refusal codes, or whose message says the content was refused. Anything else is undefined.
 */
export function refusalOf(err: unknown, provider: string, entryId?: string): ImageRefusedError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as SdkErrorShape;
  if (e.status !== 400 && e.status !== 422) return undefined;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const message = messageOf(e);
  if (code && REFUSAL_CODES.has(code)) {
    return new ImageRefusedError(provider, message || code, { providerCode: code, entryId, cause: err });
  }
  if (REFUSAL_WORDING.test(message)) {
    return new ImageRefusedError(provider, message, {
      providerCode: code ?? 'content_refused',
      entryId,
      cause: err,
    });
  }
  return undefined;
}
