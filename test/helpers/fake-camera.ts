// A video file for Chromium's fake camera (--use-file-for-fake-video-capture): a few frames of a
// plain scene in Y4M (4:2:0), made with sharp, so the camera tests need no binary fixture.
import { writeFileSync } from 'node:fs';
import sharp from 'sharp';

export const FAKE_CAMERA_SIZE = { width: 320, height: 240 };

/** Writes `frames` identical frames of an orange scene with a blue square; returns the path. */
export async function writeFakeCameraFile(path: string, frames = 2): Promise<string> {
  const { width, height } = FAKE_CAMERA_SIZE;
  const square = await sharp({ create: { width: 120, height: 90, channels: 3, background: '#1d4ed8' } })
    .png()
    .toBuffer();
  const rgb = await sharp({ create: { width, height, channels: 3, background: '#f59e0b' } })
    .composite([{ input: square, left: 100, top: 75 }])
    // Compositing adds an alpha channel; the frame below is read as RGB triples.
    .removeAlpha()
    .raw()
    .toBuffer();
  const y = Buffer.alloc(width * height);
  const u = Buffer.alloc((width / 2) * (height / 2));
  const v = Buffer.alloc((width / 2) * (height / 2));
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      const i = (row * width + col) * 3;
      const [r, g, b] = [rgb[i]!, rgb[i + 1]!, rgb[i + 2]!];
      y[row * width + col] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
      if (row % 2 === 0 && col % 2 === 0) {
        const c = (row / 2) * (width / 2) + col / 2;
        u[c] = Math.round(128 - 0.168736 * r - 0.331264 * g + 0.5 * b);
        v[c] = Math.round(128 + 0.5 * r - 0.418688 * g - 0.081312 * b);
      }
    }
  }
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, u, v]);
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`);
  writeFileSync(path, Buffer.concat([header, ...Array.from({ length: frames }, () => frame)]));
  return path;
}
