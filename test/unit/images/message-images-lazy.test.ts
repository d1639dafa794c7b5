// sharp (native) loads with the first turn that carries an image inside its messages, not with
// the chat function: text turns never wait for it, and a sharp that cannot load fails only the
// image turns' normalization: their messages go on unchanged, and each tries the load again. A native binary that does not match the
// platform cannot be produced for real, so `sharp` is replaced by a failing module here.
import type { NormalizedPart } from '../../../shared/context/message-images';
import type { ChatMessage } from '../../../shared/openai/schema';

// A 1x1 PNG: no sharp needed to make it.
const PNG_1X1 =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

let sharpLoads = 0;
let sharpBroken = true;

beforeEach(() => {
  jest.resetModules();
  sharpLoads = 0;
  sharpBroken = true;
  jest.doMock('sharp', () => {
    sharpLoads++;
    if (sharpBroken) throw new Error('Could not load the "sharp" module using the linux-x64 runtime');
    return jest.requireActual('sharp');
  });
});

afterEach(() => jest.dontMock('sharp'));

async function load() {
  const { normalizeMessageImages } = await import('../../../shared/context/message-images');
  const { BoundedCache } = await import('../../../shared/context/bounded-cache');
  const { DEFAULT_IMAGE_LIMITS } = await import('../../../shared/images/limits');
  const deps = {
    limits: DEFAULT_IMAGE_LIMITS,
    fetchImage: async () => Buffer.alloc(0),
    cache: new BoundedCache<Promise<NormalizedPart>>(32, () => 1),
  };
  return (messages: ChatMessage[]) => normalizeMessageImages(messages, deps);
}

const textTurn: ChatMessage[] = [{ role: 'user', content: 'What do you see?' }];
const imageTurn: ChatMessage[] = [
  {
    role: 'user',
    content: [
      { type: 'text', text: 'And now?' },
      { type: 'image_url', image_url: { url: PNG_1X1 } },
    ],
  },
];

test('a text turn neither loads sharp nor depends on it', async () => {
  const normalize = await load();
  expect((await normalize(textTurn)).messages).toEqual(textTurn);
  expect(sharpLoads).toBe(0);
});

test('a sharp that cannot load leaves the image turn unchanged, and the next image turn loads it again', async () => {
  const normalize = await load();
  const degraded = await normalize(imageTurn);
  expect(degraded.messages).toEqual(imageTurn);
  expect(degraded.images).toEqual([]);
  expect(degraded.unavailable?.message).toMatch(/Could not load the "sharp" module/);
  expect(sharpLoads).toBe(1);
  // The binary is fixed (or the failure was passing): the next image turn succeeds.
  sharpBroken = false;
  const { messages, images } = await normalize(imageTurn);
  expect(sharpLoads).toBe(2);
  expect(images).toHaveLength(1);
  const part = (messages[0]!.content as { type: string; image_url?: { url: string } }[])[1]!;
  expect(part.image_url!.url).toMatch(/^data:image\/(jpeg|webp);base64,/);
});
