// The typed browser client of the vision backend's browser API (README "Browser API"): the one
// place a page speaks to it. Framework-free; runs in browsers and in Node 22 (fetch, FormData,
// Blob). Every failure is a VisionApiError carrying the API's status and precise code.
import { abortableSleep } from '../../shared/abortable-sleep';
import type { ElevenLabsCredentials } from '../../shared/browser-api/sessions-routes';
import type { PublicGeneration } from '../../shared/imagegen/views';
import type { PublicImage, PublicSession } from '../../shared/sessions/views';
import type { ImageResult } from '../../shared/uploads/image-result';
import { apiErrorFrom, networkError, s3ErrorFrom, VisionApiError } from './errors';
import { defaultTransport, type UploadProgress, type UploadTransport } from './transport';

export { VisionApiError } from './errors';
export type { UploadProgress, UploadTransport } from './transport';
export { fetchTransport, xhrTransport } from './transport';
export type { ElevenLabsCredentials, ImageResult, PublicGeneration, PublicImage, PublicSession };

/** A generation's states; the last four never change again. */
export type GenerationStatus = PublicGeneration['status'];
export const TERMINAL_GENERATION_STATES: readonly GenerationStatus[] = [
  'ready',
  'failed',
  'expired',
  'cancelled',
];

export interface GenerateOptions {
  quality?: 'low' | 'medium' | 'high';
  aspect?: 'square' | 'landscape' | 'portrait';
  style?: string;
  /** An image of this session to edit (a ready one). */
  editImageId?: string;
  signal?: AbortSignal;
}

export interface WaitForGenerationOptions {
  signal?: AbortSignal;
  /** Between reads (default 1000 ms). */
  intervalMs?: number;
  /** Every read, the first included: progress for a page to show. */
  onUpdate?: (g: PublicGeneration) => void;
  /** Stop at these states too (default: only terminal ones; add `awaiting_confirmation` to stop there). */
  until?: readonly GenerationStatus[];
}

/** `GET /sessions/{id}`: with `generations` when the server has image generation enabled. */
export type SessionView = PublicSession & { generations?: PublicGeneration[] };

export interface VisionClientOptions {
  /** Base URL of the sessions API (the `ApiUrl` stack output; locally the dev server). */
  apiUrl: string;
  /** A bearer JWT for `AUTH_MODE=jwt` stages, read before each call. */
  getToken?: () => string | undefined | Promise<string | undefined>;
  /** Extra headers on every API call (Node callers set `origin` here; browsers send it themselves). */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
  /** How files reach S3: XMLHttpRequest in browsers (progress), fetch elsewhere. */
  transport?: UploadTransport;
}

export interface CreateSessionOptions {
  /** What ElevenLabs credentials to mint: a WebRTC token (default), a websocket signed URL, or both. */
  connection?: 'webrtc' | 'websocket' | 'both';
  signal?: AbortSignal;
}

export interface AddImageOptions {
  /** Images in the same slot replace each other for later turns (`canvas`, `camera`, ...). */
  slot?: string;
  signal?: AbortSignal;
}

export interface AddFileOptions extends AddImageOptions {
  /** Bytes sent to storage so far (XMLHttpRequest upload progress in browsers). */
  onProgress?: (p: UploadProgress) => void;
}

export interface SessionUsageTotals {
  available: boolean;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
}

interface CreatedSessionBody {
  sessionId: string;
  sessionSecret: string;
  expiresAt: string;
  uploadUrl: string;
  elevenLabs: ElevenLabsCredentials | null;
}

interface UploadFormBody {
  imageId: string;
  upload: { url: string; fields: Record<string, string> };
  maxBytes: number;
}

/** Calls the API; resolves with the parsed JSON body (undefined for 204), throws VisionApiError. */
type Call = <T>(
  method: string,
  url: string,
  opts?: { body?: unknown; secret?: string; signal?: AbortSignal | undefined },
) => Promise<T>;

function caller(opts: VisionClientOptions): Call {
  const fetchFn = opts.fetch ?? globalThis.fetch.bind(globalThis);
  return async <T>(
    method: string,
    url: string,
    o: { body?: unknown; secret?: string; signal?: AbortSignal | undefined } = {},
  ): Promise<T> => {
    const headers: Record<string, string> = { ...opts.headers };
    const token = await opts.getToken?.();
    if (token) headers.authorization = `Bearer ${token}`;
    if (o.secret) headers['x-session-secret'] = o.secret;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetchFn(url, {
        method,
        headers,
        ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      });
    } catch (err) {
      throw networkError(err, o.signal);
    }
    const text = await res.text();
    if (!res.ok) throw apiErrorFrom(res.status, text, res.headers.get('retry-after'));
    return (text ? JSON.parse(text) : undefined) as T;
  };
}

/** Creates a session: the browser's handle on its images and its ElevenLabs conversation. */
export async function createSession(
  opts: VisionClientOptions,
  session: CreateSessionOptions = {},
): Promise<VisionSession> {
  const call = caller(opts);
  const api = opts.apiUrl.replace(/\/+$/, '');
  const body = await call<CreatedSessionBody>('POST', `${api}/sessions`, {
    body: session.connection ? { connection: session.connection } : {},
    signal: session.signal,
  });
  return new VisionSession(body, api, call, opts.transport ?? defaultTransport());
}

export class VisionSession {
  readonly id: string;
  readonly expiresAt: Date;
  /** Credentials for `useConversation().startSession` / `Conversation.startSession`; null without an agent. */
  readonly elevenLabs: ElevenLabsCredentials | null;
  private readonly secret: string;
  private readonly imagesUrl: string;

  constructor(
    body: CreatedSessionBody,
    private readonly api: string,
    private readonly call: Call,
    private readonly transport: UploadTransport,
  ) {
    this.id = body.sessionId;
    this.secret = body.sessionSecret;
    this.expiresAt = new Date(body.expiresAt);
    this.elevenLabs = body.elevenLabs;
    // Deployed, an absolute URL on the uploads function; locally a path on the same origin.
    this.imagesUrl = new URL(body.uploadUrl, `${api}/`).toString();
  }

  /** What to pass as `customLlmExtraBody` when starting the conversation: how turns find this session. */
  get customLlmExtraBody(): { session_id: string } {
    return { session_id: this.id };
  }

  /**
   * A file or blob straight to S3 through a presigned POST, then checked and normalized by the
   * server. A refusal (not an image, too large...) throws with the server's code and reason.
   */
  async addFile(file: Blob, opts: AddFileOptions = {}): Promise<ImageResult> {
    const form = await this.call<UploadFormBody>('POST', this.imagesUrl, {
      body: {
        contentType: file.type || 'application/octet-stream',
        contentLength: file.size,
        ...(opts.slot !== undefined ? { slot: opts.slot } : {}),
      },
      secret: this.secret,
      signal: opts.signal,
    });
    const data = new FormData();
    for (const [name, value] of Object.entries(form.upload.fields)) data.append(name, value);
    // S3 reads every field before the file: the file goes last.
    data.append('file', file);
    let answer: Awaited<ReturnType<UploadTransport>>;
    try {
      answer = await this.transport(form.upload.url, data, {
        total: file.size,
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      if (answer.status >= 300) throw s3ErrorFrom(answer.status, answer.text);
    } catch (err) {
      // The pending image would only count against the session: remove it, then report the cause.
      await this.removeImage(form.imageId).catch(() => undefined);
      throw err;
    }
    return this.call<ImageResult>('POST', `${this.imagesUrl}/${form.imageId}/complete`, {
      secret: this.secret,
      signal: opts.signal,
    });
  }

  /** A small image inline (`data:image/...;base64,...`, at most 2 MB by default). */
  addDataUri(data: string, opts: AddImageOptions = {}): Promise<ImageResult> {
    return this.call<ImageResult>('POST', this.imagesUrl, {
      body: { data, ...(opts.slot !== undefined ? { slot: opts.slot } : {}) },
      secret: this.secret,
      signal: opts.signal,
    });
  }

  /** An image the server fetches itself (public https URLs only: private addresses are refused). */
  addUrl(url: string, opts: AddImageOptions = {}): Promise<ImageResult> {
    return this.call<ImageResult>('POST', this.imagesUrl, {
      body: { url, ...(opts.slot !== undefined ? { slot: opts.slot } : {}) },
      secret: this.secret,
      signal: opts.signal,
    });
  }

  /** Removes one image from the session (and from the turns after this call). */
  async removeImage(imageId: string): Promise<void> {
    await this.call<undefined>('DELETE', `${this.imagesUrl}/${encodeURIComponent(imageId)}`, {
      secret: this.secret,
    });
  }

  /** Links the ElevenLabs conversation (`onConnect`'s conversationId): a second way turns find the session. */
  async linkConversation(conversationId: string): Promise<void> {
    await this.call<unknown>('POST', `${this.api}/sessions/${this.id}/link`, {
      body: { conversationId },
      secret: this.secret,
    });
  }

  /** The session as the server sees it: expiry, linked conversation, image metadata (and generations). */
  get(): Promise<SessionView> {
    return this.call<SessionView>('GET', `${this.api}/sessions/${this.id}`, { secret: this.secret });
  }

  /** Tokens and estimated cost of the session's turns so far (`available: false` if unreadable now). */
  usage(): Promise<SessionUsageTotals> {
    return this.call<SessionUsageTotals>('GET', `${this.api}/sessions/${this.id}/usage`, {
      secret: this.secret,
    });
  }

  async listImages(): Promise<PublicImage[]> {
    return (await this.get()).images;
  }

  /**
   * Asks for an image: answered with the estimate, `queued` at once when under the server's
   * auto-approve amount, else `awaiting_confirmation` (confirm with confirmGeneration).
   */
  generate(prompt: string, opts: GenerateOptions = {}): Promise<PublicGeneration> {
    const { signal, ...options } = opts;
    return this.call<PublicGeneration>('POST', this.generationsUrl(), {
      body: { prompt, ...options },
      secret: this.secret,
      signal,
    });
  }

  /** Agrees to the estimate: the job may use models priced at most that much. Repeating it charges nothing. */
  confirmGeneration(generationId: string, signal?: AbortSignal): Promise<PublicGeneration> {
    return this.call<PublicGeneration>('POST', `${this.generationsUrl(generationId)}/confirm`, {
      secret: this.secret,
      signal,
    });
  }

  /** One read; `imageUrl` (presigned, 1 hour) when ready. */
  getGeneration(generationId: string, signal?: AbortSignal): Promise<PublicGeneration> {
    return this.call<PublicGeneration>('GET', this.generationsUrl(generationId), {
      secret: this.secret,
      signal,
    });
  }

  /**
   * Reads the generation every `intervalMs` until it reaches a terminal state (or one of `until`).
   * Aborting the signal stops the polling with VisionApiError `aborted`.
   */
  async waitForGeneration(
    generationId: string,
    opts: WaitForGenerationOptions = {},
  ): Promise<PublicGeneration> {
    const stopAt = new Set([...TERMINAL_GENERATION_STATES, ...(opts.until ?? [])]);
    const signal = opts.signal ?? new AbortController().signal;
    for (;;) {
      const g = await this.getGeneration(generationId, signal);
      opts.onUpdate?.(g);
      if (stopAt.has(g.status)) return g;
      await abortableSleep(opts.intervalMs ?? 1000, signal);
      if (signal.aborted) throw networkError(new Error('aborted'), signal);
    }
  }

  /** Cancels a generation still waiting or queued (409 `generation_not_cancellable` after that). */
  cancelGeneration(generationId: string): Promise<PublicGeneration> {
    return this.call<PublicGeneration>('DELETE', this.generationsUrl(generationId), { secret: this.secret });
  }

  /** The session's generations, those the voice agent started included (`[]` when generation is off). */
  async listGenerations(): Promise<PublicGeneration[]> {
    return (await this.get()).generations ?? [];
  }

  private generationsUrl(generationId?: string): string {
    const base = `${this.api}/sessions/${this.id}/generations`;
    return generationId === undefined ? base : `${base}/${encodeURIComponent(generationId)}`;
  }

  /** Removes the session, its images and their objects. */
  async delete(): Promise<void> {
    await this.call<undefined>('DELETE', `${this.api}/sessions/${this.id}`, { secret: this.secret });
  }
}

export function isVisionApiError(err: unknown): err is VisionApiError {
  return err instanceof VisionApiError;
}
