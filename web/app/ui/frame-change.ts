// How the camera's live mode decides that the picture changed: the mean luminance difference of
// two small frames (RGBA, same size). Pure, so it is tested without a browser.

/** Mean absolute luminance difference per pixel, 0 (identical) to 255. */
export function frameDifference(a: Uint8ClampedArray, b: Uint8ClampedArray): number {
  if (a.length !== b.length || a.length === 0) return 255;
  let sum = 0;
  for (let i = 0; i < a.length; i += 4) {
    const la = 0.299 * a[i]! + 0.587 * a[i + 1]! + 0.114 * a[i + 2]!;
    const lb = 0.299 * b[i]! + 0.587 * b[i + 1]! + 0.114 * b[i + 2]!;
    sum += Math.abs(la - lb);
  }
  return sum / (a.length / 4);
}

/**
 * Sensor noise moves a still scene by 1-3 levels on average; a hand, a turned page or a new
 * object moves it by far more. 6 keeps still scenes free and real changes sent.
 */
export const FRAME_CHANGE_THRESHOLD = 6;

export function frameChanged(previous: Uint8ClampedArray | undefined, next: Uint8ClampedArray): boolean {
  return previous === undefined || frameDifference(previous, next) >= FRAME_CHANGE_THRESHOLD;
}
