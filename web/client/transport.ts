// How a presigned form reaches S3: XMLHttpRequest in browsers (the only browser API that reports
// upload progress), fetch elsewhere (Node, workers), which reports only the start and the end.
import { networkError } from './errors';

export interface UploadProgress {
  loaded: number;
  total: number;
}

export interface UploadAnswer {
  status: number;
  text: string;
}

/** POSTs a multipart form; resolves with any HTTP answer, rejects (VisionApiError) only without one. */
export type UploadTransport = (
  url: string,
  form: FormData,
  opts: { onProgress?: (p: UploadProgress) => void; signal?: AbortSignal; total: number },
) => Promise<UploadAnswer>;

export function fetchTransport(fetchFn: typeof fetch = globalThis.fetch.bind(globalThis)): UploadTransport {
  return async (url, form, { onProgress, signal, total }) => {
    onProgress?.({ loaded: 0, total });
    let res: Response;
    try {
      res = await fetchFn(url, { method: 'POST', body: form, ...(signal ? { signal } : {}) });
    } catch (err) {
      throw networkError(err, signal);
    }
    const text = await res.text();
    if (res.ok) onProgress?.({ loaded: total, total });
    return { status: res.status, text };
  };
}

/** The part of XMLHttpRequest used here (typed structurally: the client compiles without the DOM library). */
interface Xhr {
  open(method: string, url: string): void;
  send(body: FormData): void;
  abort(): void;
  readonly status: number;
  readonly responseText: string;
  upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}

export function xhrTransport(Ctor: new () => Xhr): UploadTransport {
  return (url, form, { onProgress, signal, total }) =>
    new Promise<UploadAnswer>((resolve, reject) => {
      const xhr = new Ctor();
      xhr.open('POST', url);
      xhr.upload.onprogress = (e) =>
        onProgress?.({ loaded: e.loaded, total: e.lengthComputable ? e.total : total });
      xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText });
      xhr.onerror = () => reject(networkError(new Error('the connection failed or CORS refused it'), signal));
      xhr.onabort = () => reject(networkError(new Error('aborted'), signal));
      if (signal) {
        if (signal.aborted) return reject(networkError(new Error('aborted'), signal));
        signal.addEventListener('abort', () => xhr.abort(), { once: true });
      }
      onProgress?.({ loaded: 0, total });
      xhr.send(form);
    });
}

/** XMLHttpRequest where there is one (browsers), fetch otherwise. */
export function defaultTransport(): UploadTransport {
  const Ctor = (globalThis as { XMLHttpRequest?: new () => Xhr }).XMLHttpRequest;
  return Ctor ? xhrTransport(Ctor) : fetchTransport();
}
