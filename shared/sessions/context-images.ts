// Which of a session's images a chat turn sees: the ready ones, in the order they arrived,
// with each slot represented only by its newest image (a redrawn canvas replaces the old one).
import { isReadyImage, type ReadyImage, type SessionImage } from './types';

function arrivalOrder(a: ReadyImage, b: ReadyImage): number {
  // Two images can become ready in the same millisecond; the id keeps the order stable.
  return a.seq - b.seq || (a.imageId < b.imageId ? -1 : a.imageId > b.imageId ? 1 : 0);
}

export function selectContextImages(images: readonly SessionImage[]): ReadyImage[] {
  const ready = images.filter(isReadyImage).sort(arrivalOrder);
  const newestInSlot = new Map<string, ReadyImage>();
  for (const image of ready) if (image.slot !== undefined) newestInSlot.set(image.slot, image);
  return ready.filter((image) => image.slot === undefined || newestInSlot.get(image.slot) === image);
}
