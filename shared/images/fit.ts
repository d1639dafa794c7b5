// The size an image is scaled to so it fits a long-edge cap and a total-pixel cap at once.

export interface Dimensions {
  width: number;
  height: number;
}

/**
 * Largest size with the same aspect ratio (to the pixel) whose long edge is at most
 * `maxLongEdge` and whose area is at most `maxPixels`. Never enlarges. Rounds down, so both
 * caps hold exactly rather than "about": vision APIs downscale anything a pixel over, which
 * would waste the work done here.
 */
export function fitWithinCaps(source: Dimensions, maxLongEdge: number, maxPixels: number): Dimensions {
  const { width, height } = source;
  const scale = Math.min(1, maxLongEdge / Math.max(width, height), Math.sqrt(maxPixels / (width * height)));
  if (scale >= 1) return { width, height };
  // The epsilon keeps exact products (1568 / 4000 * 4000) from flooring one pixel short.
  let w = Math.max(1, Math.floor(width * scale + 1e-9));
  let h = Math.max(1, Math.floor(height * scale + 1e-9));
  // Floating point can still land a pixel over a cap; step the long side down until both hold.
  while ((w > maxLongEdge || h > maxLongEdge || w * h > maxPixels) && (w > 1 || h > 1)) {
    if (w >= h) w -= 1;
    else h -= 1;
  }
  return { width: w, height: h };
}
