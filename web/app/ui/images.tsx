// Adding images (file picker, drag and drop, paste anywhere on the page, an address) and the
// session's images as thumbnails with their state, each removable.
import { useEffect, useState } from 'react';
import type { ImagesApi } from './use-images';

function imagesIn(data: DataTransfer | null): File[] {
  return [...(data?.files ?? [])];
}

export function AddImages(props: { images: ImagesApi; disabled: boolean }) {
  const { images, disabled } = props;
  const [url, setUrl] = useState('');
  const [over, setOver] = useState(false);

  // A paste anywhere on the page that carries files (a screenshot, a copied image) adds them.
  useEffect(() => {
    const onPaste = (e: ClipboardEvent) => {
      const files = imagesIn(e.clipboardData);
      if (files.length === 0) return;
      e.preventDefault();
      for (const f of files) void images.addBlob(f, f.name || 'pasted image');
    };
    document.addEventListener('paste', onPaste);
    return () => document.removeEventListener('paste', onPaste);
  }, [images]);

  return (
    <section className="panel" aria-labelledby="add-title">
      <h2 id="add-title">Show an image</h2>
      <fieldset
        className={`dropzone${over ? ' over' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          for (const f of imagesIn(e.dataTransfer)) void images.addBlob(f, f.name);
        }}
      >
        <legend className="visually-hidden">Drop images here</legend>
        <label htmlFor="file-input" className="button">
          Choose photos
        </label>
        <input
          id="file-input"
          className="visually-hidden"
          type="file"
          accept="image/*"
          multiple
          disabled={disabled}
          onChange={(e) => {
            for (const f of [...(e.target.files ?? [])]) void images.addBlob(f, f.name);
            e.target.value = '';
          }}
        />
        <span className="hint">or drop them here, or paste one (Ctrl+V / ⌘V)</span>
      </fieldset>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (url.trim()) void images.addUrl(url.trim());
          setUrl('');
        }}
      >
        <label htmlFor="image-url" className="visually-hidden">
          Address of a public image
        </label>
        <input
          id="image-url"
          type="url"
          placeholder="https://… address of an image"
          value={url}
          onChange={(e) => setUrl(e.target.value)}
        />
        <button type="submit" disabled={disabled}>
          Add from URL
        </button>
      </form>
    </section>
  );
}

function stateText(i: ImagesApi['images'][number]): string {
  if (i.state === 'uploading') return `Uploading ${Math.round(i.progress * 100)}%`;
  if (i.state === 'refused') return `Refused: ${i.reason ?? ''}`;
  const r = i.result;
  return r ? `Ready · ${r.width} × ${r.height}` : 'Ready';
}

export function Thumbnails(props: { images: ImagesApi }) {
  const { images } = props;
  return (
    <section className="panel" aria-labelledby="images-title">
      <h2 id="images-title">The agent sees</h2>
      {images.images.length === 0 ? (
        <p className="hint">No images yet.</p>
      ) : (
        <ul className="thumbs">
          {images.images.map((i) => (
            <li key={i.key} className={`thumb ${i.state}`} data-state={i.state} data-slot={i.slot ?? ''}>
              {i.preview ? <img src={i.preview} alt={i.name} /> : <span className="noimg">{i.name}</span>}
              <span className="name">
                {i.name}
                {i.slot ? ` (${i.slot})` : ''}
              </span>
              <span className="state">{stateText(i)}</span>
              {i.state !== 'uploading' && (
                <button
                  type="button"
                  onClick={() => void images.remove(i.key)}
                  aria-label={`Remove ${i.name}`}
                >
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
