// The session's images as the page shows them: one entry per upload with its state (uploading,
// ready, refused with the server's reason). A new image in a slot (camera, canvas) replaces the
// slot's previous entry, as it replaces it for the agent.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ImageResult, VisionSession } from '../../client';
import { describeError } from './errors';

export interface ShownImage {
  key: string;
  name: string;
  slot: string | null;
  /** Object URL of the bytes the user gave, or the address for URL images. */
  preview: string | null;
  state: 'uploading' | 'ready' | 'refused';
  progress: number;
  result?: ImageResult;
  reason?: string;
}

export interface ImagesApi {
  images: ShownImage[];
  addBlob(blob: Blob, name: string, slot?: string): Promise<void>;
  addUrl(url: string): Promise<void>;
  remove(key: string): Promise<void>;
}

let counter = 0;

export function useImages(session: VisionSession | null): ImagesApi {
  const [images, setImages] = useState<ShownImage[]>([]);
  const current = useRef(images);
  current.current = images;

  const update = useCallback((key: string, patch: Partial<ShownImage>) => {
    setImages((list) => list.map((i) => (i.key === key ? { ...i, ...patch } : i)));
  }, []);

  const start = useCallback((entry: ShownImage) => {
    setImages((list) => {
      const replaced = entry.slot ? list.filter((i) => i.slot === entry.slot) : [];
      for (const old of replaced) if (old.preview?.startsWith('blob:')) URL.revokeObjectURL(old.preview);
      return [...list.filter((i) => !replaced.includes(i)), entry];
    });
  }, []);

  const addBlob = useCallback(
    async (blob: Blob, name: string, slot?: string) => {
      if (!session) return;
      counter += 1;
      const key = `img${counter}`;
      start({
        key,
        name,
        slot: slot ?? null,
        preview: URL.createObjectURL(blob),
        state: 'uploading',
        progress: 0,
      });
      try {
        const result = await session.addFile(blob, {
          ...(slot ? { slot } : {}),
          onProgress: (p) => update(key, { progress: p.total ? p.loaded / p.total : 0 }),
        });
        update(key, { state: 'ready', result, progress: 1 });
      } catch (err) {
        update(key, { state: 'refused', reason: describeError(err) });
      }
    },
    [session, start, update],
  );

  const addUrl = useCallback(
    async (url: string) => {
      if (!session) return;
      counter += 1;
      const key = `img${counter}`;
      start({ key, name: url, slot: null, preview: null, state: 'uploading', progress: 0 });
      try {
        const result = await session.addUrl(url);
        update(key, { state: 'ready', result, progress: 1 });
      } catch (err) {
        update(key, { state: 'refused', reason: describeError(err) });
      }
    },
    [session, start, update],
  );

  const remove = useCallback(
    async (key: string) => {
      const entry = current.current.find((i) => i.key === key);
      if (!entry) return;
      if (entry.result && session) {
        try {
          await session.removeImage(entry.result.imageId);
        } catch (err) {
          update(key, { reason: describeError(err) });
          return;
        }
      }
      if (entry.preview?.startsWith('blob:')) URL.revokeObjectURL(entry.preview);
      setImages((list) => list.filter((i) => i.key !== key));
    },
    [session, update],
  );

  useEffect(
    () => () => {
      for (const i of current.current) if (i.preview?.startsWith('blob:')) URL.revokeObjectURL(i.preview);
    },
    [],
  );

  return { images, addBlob, addUrl, remove };
}
