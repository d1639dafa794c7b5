// Puts a session's images into a turn's messages at stable positions. An image enters the
// history at the user turn where it was first seen and stays there on every later turn, so the
// request prefix is byte-identical from turn to turn and provider prompt caches keep hitting.
import { createHash } from 'node:crypto';
import type { ChatMessage, ImageUrlPart, UserContentPart } from '../openai/schema';
import { contentText } from '../openai/schema';

/** A user turn's label: a hash of its text plus which occurrence of that text it is. */
export type TurnAnchor = string;

export interface PlaceableImage {
  imageId: string;
  /** Where it entered; unset for an image no turn has seen yet. */
  anchor?: TurnAnchor;
  part: ImageUrlPart;
}

export interface Placement {
  messages: ChatMessage[];
  /** Images that were unanchored and now sit at the latest user turn: persist these anchors. */
  newAnchors: { imageId: string; anchor: TurnAnchor }[];
}

/**
 * Labels every user message. Hashing the text (not the index) keeps labels valid when a long
 * history is trimmed at the front; the occurrence count tells apart two turns that both said "yes".
 */
export function userTurnAnchors(messages: readonly ChatMessage[]): { index: number; anchor: TurnAnchor }[] {
  const seen = new Map<string, number>();
  const out: { index: number; anchor: TurnAnchor }[] = [];
  messages.forEach((m, index) => {
    if (m.role !== 'user') return;
    const digest = createHash('sha256').update(contentText(m.content)).digest('hex').slice(0, 16);
    const n = (seen.get(digest) ?? 0) + 1;
    seen.set(digest, n);
    out.push({ index, anchor: `${digest}#${n}` });
  });
  return out;
}

function withImages(m: ChatMessage & { role: 'user' }, parts: ImageUrlPart[]): ChatMessage {
  const existing: UserContentPart[] =
    typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content;
  return { ...m, content: [...existing, ...parts] };
}

/**
 * Pure. Images keep their given order within a turn. An anchor no longer in the history (trimmed
 * away) places the image at the first user turn; an unanchored image goes to the latest one.
 */
export function placeImages(messages: readonly ChatMessage[], images: readonly PlaceableImage[]): Placement {
  if (images.length === 0) return { messages: [...messages], newAnchors: [] };
  const turns = userTurnAnchors(messages);
  const newAnchors: Placement['newAnchors'] = [];
  const out = [...messages];
  if (turns.length === 0) {
    // No user turn yet (an upload before the first words): the images form one.
    out.push({ role: 'user', content: images.map((i) => i.part) });
    return { messages: out, newAnchors };
  }
  const latest = turns[turns.length - 1]!;
  const byIndex = new Map<number, ImageUrlPart[]>();
  for (const image of images) {
    let turn = image.anchor ? turns.find((t) => t.anchor === image.anchor) : undefined;
    if (!image.anchor) {
      turn = latest;
      newAnchors.push({ imageId: image.imageId, anchor: latest.anchor });
    }
    const index = (turn ?? turns[0]!).index;
    byIndex.set(index, [...(byIndex.get(index) ?? []), image.part]);
  }
  for (const [index, parts] of byIndex)
    out[index] = withImages(out[index] as ChatMessage & { role: 'user' }, parts);
  return { messages: out, newAnchors };
}
