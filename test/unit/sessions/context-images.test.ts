import { selectContextImages } from '../../../shared/sessions/context-images';
import type { SessionImage } from '../../../shared/sessions/types';

function ready(imageId: string, seq: number, slot?: string): SessionImage {
  return {
    imageId,
    status: 'ready',
    source: 'upload',
    ...(slot ? { slot } : {}),
    key: `images/s/${imageId}.jpg`,
    mime: 'image/jpeg',
    width: 10,
    height: 10,
    bytes: 100,
    sourceBytes: 200,
    sha256: imageId.padEnd(64, '0'),
    createdAt: seq - 10,
    readyAt: seq,
    seq,
    ttl: 1,
  };
}

test('ready images in arrival order; pending, duplicate and incomplete ones are left out', () => {
  const images: SessionImage[] = [
    ready('c', 30),
    { imageId: 'p', status: 'pending', source: 'upload', createdAt: 1, ttl: 1 },
    ready('a', 10),
    { ...ready('d', 40), status: 'duplicate', duplicateOf: 'a' },
    { ...ready('e', 50), key: undefined } as SessionImage,
    ready('b', 20),
  ];
  expect(selectContextImages(images).map((i) => i.imageId)).toEqual(['a', 'b', 'c']);
});

test('each slot keeps only its newest image, at that image’s own position', () => {
  const images = [
    ready('canvas-1', 10, 'canvas'),
    ready('photo', 20),
    ready('canvas-2', 30, 'canvas'),
    ready('cam-1', 25, 'camera'),
  ];
  expect(selectContextImages(images).map((i) => i.imageId)).toEqual(['photo', 'cam-1', 'canvas-2']);
});

test('images ready in the same millisecond keep a stable order', () => {
  const images = [ready('img_b', 10), ready('img_a', 10)];
  expect(selectContextImages(images).map((i) => i.imageId)).toEqual(['img_a', 'img_b']);
  expect(selectContextImages([...images].reverse()).map((i) => i.imageId)).toEqual(['img_a', 'img_b']);
});
