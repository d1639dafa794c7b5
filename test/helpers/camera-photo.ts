// A camera-like test photo: low-frequency scene structure (large smooth shapes and gradients)
// plus fine sensor grain, which is how real photos spend their bytes. Pure Gaussian noise at
// full resolution would be the incompressible worst case no camera produces. Everything runs
// inside libvips (the grain is a small noise tile repeated), so a 12 MP photo takes well under
// a second even on a busy machine.
import sharp from 'sharp';

export async function cameraPhoto(width = 4032, height = 3024, quality = 92): Promise<Buffer> {
  const scene = await sharp({
    create: {
      width: Math.ceil(width / 24),
      height: Math.ceil(height / 24),
      channels: 3,
      background: '#000',
      noise: { type: 'gaussian', mean: 128, sigma: 60 },
    },
  })
    .png()
    .toBuffer();
  const smooth = await sharp(scene).resize(width, height, { kernel: 'cubic' }).blur(6).raw().toBuffer();
  const grain = await sharp({
    create: {
      width: 509,
      height: 509,
      channels: 3,
      background: '#000',
      noise: { type: 'gaussian', mean: 128, sigma: 14 },
    },
  })
    .png()
    .toBuffer();
  return sharp(smooth, { raw: { width, height, channels: 3 } })
    .composite([{ input: grain, tile: true, blend: 'overlay' }])
    .jpeg({ quality })
    .toBuffer();
}
