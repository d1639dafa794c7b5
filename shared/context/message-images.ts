// Images that arrive inside `messages` (ElevenLabs' own uploads, or any OpenAI client sending
// image_url parts) get the same checks and normalization as uploads: each distinct input is
// normalized once per container and replaced, in the forwarded request, by its normalized form.
import { createHash } from 'node:crypto';
import { parseDataUri, toDataUri } from '../images/data-uri';
import type { ImageLimits, NormalizedImage } from '../images/normalize';
import type { ChatMessage, ImageUrlPart } from '../openai/schema';
import type { BoundedCache } from './bounded-cache';

export interface NormalizedPart {
  /** sha256 of the input (the data URI or URL text): the cache key. */
  inputHash: string;
  normalized: NormalizedImage;
  dataUri: string;
}

export interface MessageImagesDeps {
  limits: ImageLimits;
  /** Downloads an https image SSRF-safely (fetchImageSafely with the configured limits). */
  fetchImage: (url: string) => Promise<Buffer>;
  cache: BoundedCache<Promise<NormalizedPart>>;
}

export interface FoundImage {
  messageIndex: number;
  partIndex: number;
  part: ImageUrlPart;
}

export function findMessageImages(messages: readonly ChatMessage[]): FoundImage[] {
  const out: FoundImage[] = [];
  messages.forEach((m, messageIndex) => {
    if (m.role !== 'user' || typeof m.content === 'string') return;
    m.content.forEach((part, partIndex) => {
      if (part.type === 'image_url') out.push({ messageIndex, partIndex, part });
    });
  });
  return out;
}

let normalizer: Promise<typeof import('../images/normalize')> | undefined;

/** The image stack (sharp's native binary) could not be loaded on this platform. */
export class ImageStackUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`the image stack could not be loaded: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'ImageStackUnavailableError';
  }
}

/**
 * sharp (a native module, the largest single load of the chat function's first request) is
 * loaded by the first turn that carries an image in its messages, not at cold start: most voice
 * turns carry none. A failed load is not remembered, so the next image turn tries again.
 */
function loadNormalizer(): Promise<typeof import('../images/normalize')> {
  normalizer ??= import('../images/normalize').catch((err: unknown) => {
    normalizer = undefined;
    throw new ImageStackUnavailableError(err);
  });
  return normalizer;
}

async function normalizePart(
  url: string,
  inputHash: string,
  deps: MessageImagesDeps,
): Promise<NormalizedPart> {
  // sharp loads while the image is fetched.
  const loading = loadNormalizer();
  loading.catch(() => {});
  const bytes = url.startsWith('data:')
    ? parseDataUri(url, deps.limits.maxInputBytes).bytes
    : await deps.fetchImage(url);
  const { normalizeImage } = await loading;
  const normalized = await normalizeImage(Buffer.from(bytes), deps.limits);
  return { inputHash, normalized, dataUri: toDataUri(normalized.mime, normalized.bytes) };
}

/** Normalizes (or takes from the cache) one image part; rejections propagate as ApiErrors. */
export function normalizedPart(url: string, deps: MessageImagesDeps): Promise<NormalizedPart> {
  const inputHash = createHash('sha256').update(url).digest('hex');
  const cached = deps.cache.get(inputHash);
  if (cached) return cached;
  const pending = normalizePart(url, inputHash, deps);
  deps.cache.set(inputHash, pending);
  // A failure is not remembered: the next turn may carry a fixed image under the same URL.
  pending.catch(() => deps.cache.delete(inputHash));
  return pending;
}

/**
 * Returns the messages with every image part replaced by its normalized data URI. When the
 * image stack cannot load, the messages go on unchanged (as before this server looked at them)
 * and `unavailable` says why: images are an addition to a turn, never a condition for it.
 */
export async function normalizeMessageImages(
  messages: readonly ChatMessage[],
  deps: MessageImagesDeps,
): Promise<{
  messages: ChatMessage[];
  images: (FoundImage & NormalizedPart)[];
  unavailable?: ImageStackUnavailableError;
}> {
  const found = findMessageImages(messages);
  if (found.length === 0) return { messages: [...messages], images: [] };
  let parts: NormalizedPart[];
  try {
    parts = await Promise.all(found.map((f) => normalizedPart(f.part.image_url.url, deps)));
  } catch (err) {
    if (err instanceof ImageStackUnavailableError)
      return { messages: [...messages], images: [], unavailable: err };
    throw err;
  }
  const out = [...messages];
  found.forEach((f, i) => {
    const m = out[f.messageIndex] as ChatMessage & { role: 'user' };
    const content = [...(m.content as Exclude<typeof m.content, string>)];
    content[f.partIndex] = { type: 'image_url', image_url: { ...f.part.image_url, url: parts[i]!.dataUri } };
    out[f.messageIndex] = { ...m, content };
  });
  return { messages: out, images: found.map((f, i) => ({ ...f, ...parts[i]! })) };
}
