// The Replicate image provider, through Replicate's documented HTTP API: create a prediction
// (waiting for it with `Prefer: wait`), poll it until it succeeds, fails or is cancelled, then
// download its output with the SSRF-safe fetch. Cancelled on our side when the call is.

import { abortableSleep } from '../../abortable-sleep';
import { ApiError, UpstreamError } from '../../errors';
import { fetchImageSafely, type SafeFetchOptions } from '../../images/safe-fetch';
import type { FetchLike } from '../../providers/http-transport';
import { toUpstreamError } from '../../providers/upstream-error';
import { ImageRefusedError } from '../generation-errors';
import { MAX_PROVIDER_IMAGE_BYTES, providerImageFromBytes } from '../image-bytes';
import { type ImageProviderConfig, isImageProviderConfigured } from '../provider-config';
import type { CatalogEntry, ImageCall, ImageProvider, ImageRequest, ProviderImage } from '../types';

export interface ReplicateOptions {
  /** The HTTP client (the shared keep-alive transport); the runtime's fetch when absent. */
  fetch?: FetchLike;
  /** Seconds the create call asks Replicate to hold the answer (`Prefer: wait=N`, at most 60). */
  waitSeconds?: number;
  /** Pause between polls of a prediction still running after the wait. */
  pollIntervalMs?: number;
  /**
   * How the output URL is downloaded: https and public addresses only, unless tests widen the
   * address policy to their loopback fake.
   */
  outputFetch?: Pick<SafeFetchOptions, 'allowHttp' | 'addressPolicy' | 'lookup'>;
  /** Largest output accepted, bytes. */
  maxOutputBytes?: number;
  /** Budget for the download alone. */
  outputTimeoutMs?: number;
}

/** A prediction as the API answers it (only the fields we read). */
export interface ReplicatePrediction {
  id: string;
  status: 'starting' | 'processing' | 'succeeded' | 'failed' | 'canceled' | 'aborted';
  output?: unknown;
  error?: unknown;
}

const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'aborted']);

/** Failure texts of Replicate models' safety checkers (FLUX: "NSFW content detected..."). */
const SAFETY_FAILURE = /nsfw|safety|sensitive|flagged/i;

/** Where a prediction is created and the body to send. Pure. */
export function toReplicatePrediction(
  entry: CatalogEntry,
  request: ImageRequest,
): { path: string; body: { version?: string; input: Record<string, unknown> } } {
  if (request.source)
    throw new UpstreamError(`${entry.id} cannot edit images`, {
      status: 400,
      errorClass: 'local_invalid_request',
      code: 'image_edit_not_supported',
    });
  const input = {
    prompt: request.style ? `${request.prompt}\n\nStyle: ${request.style}` : request.prompt,
    aspect_ratio: entry.sizes[request.aspect],
    num_outputs: 1,
    output_format: 'png',
  };
  // "owner/name" runs an official model's latest version; "owner/name:version" pins one.
  const [name, version] = entry.model.split(':', 2);
  return version
    ? { path: '/predictions', body: { version, input } }
    : { path: `/models/${name}/predictions`, body: { input } };
}

/** What a finished prediction means: the output URL, a refusal, or a failure. Pure. */
export function predictionOutcome(
  p: ReplicatePrediction,
  provider: string,
  entryId: string,
): { url: string } | ImageRefusedError | UpstreamError {
  if (p.status === 'succeeded') {
    const first = Array.isArray(p.output) ? p.output[0] : p.output;
    if (typeof first === 'string' && first !== '') return { url: first };
    return new UpstreamError(`${provider}: prediction ${p.id} succeeded without an output URL`, {
      errorClass: 'malformed_image',
      code: 'upstream_malformed_image',
    });
  }
  const detail =
    typeof p.error === 'string' && p.error ? p.error.replace(/\s+/g, ' ').slice(0, 300) : p.status;
  if (p.status === 'failed' && SAFETY_FAILURE.test(detail))
    return new ImageRefusedError(provider, detail, { providerCode: 'nsfw', entryId });
  return new UpstreamError(`${provider}: prediction ${p.id} ${p.status}: ${detail}`, {
    errorClass: p.status === 'failed' ? 'prediction_failed' : 'prediction_canceled',
    code: 'upstream_error',
  });
}

/** An HTTP error answer in the shape toUpstreamError reads (the SDKs' APIError shape). */
async function httpError(res: Response): Promise<Error> {
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  const detail = (body as { detail?: unknown } | undefined)?.detail;
  return Object.assign(new Error(typeof detail === 'string' ? detail : `HTTP ${res.status}`), {
    status: res.status,
    headers: res.headers,
    error: typeof detail === 'string' ? { message: detail } : body,
  });
}

export function createReplicateProvider(
  cfg: ImageProviderConfig,
  opts: ReplicateOptions = {},
): ImageProvider {
  const fetch = opts.fetch ?? globalThis.fetch;
  const base = (cfg.baseURL ?? 'https://api.replicate.com/v1').replace(/\/+$/, '');
  const wait = Math.min(60, Math.max(1, opts.waitSeconds ?? 55));
  const pollMs = opts.pollIntervalMs ?? 1000;
  const headers = { authorization: `Bearer ${cfg.apiKey ?? ''}`, 'content-type': 'application/json' };

  async function call(path: string, init: RequestInit, signal: AbortSignal): Promise<ReplicatePrediction> {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, { ...init, headers: { ...headers, ...init.headers }, signal });
    } catch (err) {
      throw toUpstreamError(err, cfg.name, signal);
    }
    if (!res.ok) throw toUpstreamError(await httpError(res), cfg.name, signal);
    try {
      return (await res.json()) as ReplicatePrediction;
    } catch (err) {
      throw toUpstreamError(err, cfg.name, signal);
    }
  }

  return {
    name: cfg.name,
    kind: 'replicate',
    configured: isImageProviderConfigured(cfg),
    async generate({ entry, request, signal }: ImageCall): Promise<ProviderImage> {
      const { path, body } = toReplicatePrediction(entry, request);
      let prediction = await call(
        path,
        { method: 'POST', body: JSON.stringify(body), headers: { prefer: `wait=${wait}` } },
        signal,
      );
      try {
        while (!TERMINAL.has(prediction.status)) {
          await abortableSleep(pollMs, signal);
          if (signal.aborted) throw toUpstreamError(signal.reason, cfg.name, signal);
          prediction = await call(
            `/predictions/${encodeURIComponent(prediction.id)}`,
            { method: 'GET' },
            signal,
          );
        }
      } catch (err) {
        // Our timeout or the caller gave up: stop the run so it is not billed to the end.
        const id = prediction.id;
        void fetch(`${base}/predictions/${encodeURIComponent(id)}/cancel`, { method: 'POST', headers }).catch(
          () => {},
        );
        throw err;
      }
      const outcome = predictionOutcome(prediction, cfg.name, entry.id);
      if (outcome instanceof ApiError) throw outcome;
      let fetched: Awaited<ReturnType<typeof fetchImageSafely>>;
      try {
        fetched = await fetchImageSafely(outcome.url, {
          maxBytes: opts.maxOutputBytes ?? MAX_PROVIDER_IMAGE_BYTES,
          timeoutMs: opts.outputTimeoutMs ?? 30_000,
          ...opts.outputFetch,
        });
      } catch (err) {
        throw new UpstreamError(
          `${cfg.name}: the output of prediction ${prediction.id} could not be downloaded: ${(err as Error).message}`,
          { errorClass: 'output_fetch_failed', code: 'upstream_error', cause: err },
        );
      }
      const image = providerImageFromBytes(new Uint8Array(fetched.bytes), cfg.name);
      if (image instanceof UpstreamError) throw image;
      return image;
    },
  };
}
