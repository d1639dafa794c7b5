// One generation job, the same code on Lambda (functions/generate/) and in the dev server's
// process: claim the queued generation (a duplicate delivery finds it claimed and leaves), run the
// generator within the approved amount, store the image like an upload (the provider's original
// for display, the normalized copy for the vision model) as a session image marked generated
// with its prompt, then mark the generation ready and add its cost to the session's budget.
// Whatever goes wrong after the claim is recorded as a failure with a reason, never left running.
import { randomBytes } from 'node:crypto';
import { ApiError, UpstreamError } from '../errors';
import { ImageRejectedError } from '../images/errors';
import type { ImageLimits, NormalizedImage } from '../images/normalize';
import type { Logger } from '../observability/log';
import { newImageId } from '../sessions/ids';
import type { ImageObjects } from '../sessions/image-objects';
import { originalImageKey } from '../sessions/object-keys';
import type { SessionStore } from '../sessions/store';
import { isReadyImage } from '../sessions/types';
import { ingestNormalizedImage } from '../uploads/ingest';
import type { GenerationFailure, GenerationRecord } from './records';
import type { GenerationStore } from './store';
import type { CatalogEntry, GenerationResult, ImageGenerator, ImageRequest } from './types';

export interface GenerationJob {
  sessionId: string;
  generationId: string;
}

export interface JobDeps {
  generations: GenerationStore;
  store: SessionStore;
  objects: ImageObjects;
  generator: ImageGenerator;
  /** Adds the image's cost to the session's budget (shared/limits/budget.ts); absent without a control table. */
  addSessionCost?: (sessionId: string, costUsd: number) => Promise<void>;
  imageLimits: ImageLimits;
  log: Logger;
  /** The whole job's time (every provider attempt). */
  timeoutMs: number;
  logPrompts: boolean;
}

export type JobOutcome =
  | { kind: 'ready'; record: GenerationRecord }
  | { kind: 'failed'; record: GenerationRecord | undefined; code: GenerationFailure }
  /** Not queued when this delivery came (a duplicate, a cancelled or unknown generation): nothing done. */
  | { kind: 'skipped'; status: string };

class JobFailure extends Error {
  constructor(
    readonly code: GenerationFailure,
    message: string,
    readonly attempts?: GenerationRecord['attempts'],
  ) {
    super(message);
  }
}

const ORIGINAL_EXTENSIONS = { png: 'png', webp: 'webp', jpeg: 'jpg' } as const;

/** Why the generator failed, in the terms the tool and the browser API show. */
function failureOf(err: unknown, timedOut: boolean): JobFailure {
  if (err instanceof JobFailure) return err;
  if (timedOut) return new JobFailure('timeout', 'The image took too long to make.');
  // The provider's content-policy refusal (the contract names it ImageRefusedError): the user's answer.
  if (err instanceof Error && err.name === 'ImageRefusedError')
    return new JobFailure('refused', err.message || 'The image provider refused this prompt.');
  if (err instanceof ImageRejectedError)
    return new JobFailure('malformed_image', `The provider's image could not be used: ${err.message}`);
  if (err instanceof UpstreamError) return new JobFailure('provider_failed', err.message);
  if (err instanceof ApiError && err.code === 'session_image_limit_reached')
    return new JobFailure('session_image_limit', err.message);
  if (err instanceof ApiError && (err.code === 'session_not_found' || err.code === 'session_expired'))
    return new JobFailure('session_gone', 'The session ended before the image was ready.');
  return new JobFailure('internal_error', 'The image could not be made (an internal error).');
}

export async function runGenerationJob(deps: JobDeps, job: GenerationJob): Promise<JobOutcome> {
  const { generations, log } = deps;
  const claimToken = randomBytes(12).toString('base64url');
  const claimed = await generations.claim(job.sessionId, job.generationId, claimToken);
  if (claimed.kind !== 'changed') {
    const status = claimed.kind === 'missing' ? 'missing' : claimed.record.status;
    // A repeated delivery (Lambda retries, a duplicate invoke) or a generation cancelled first.
    log.info('generation job skipped: not queued', { ...job, status });
    return { kind: 'skipped', status };
  }
  const record = claimed.record;
  const started = Date.now();
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`generation job timed out after ${deps.timeoutMs} ms`));
  }, deps.timeoutMs);
  let result: GenerationResult | undefined;
  try {
    const request = await imageRequest(deps, record);
    const entries = await usableEntries(deps, record, request);
    if (deps.logPrompts) log.debug('generation prompt', { ...job, prompt: record.prompt });
    result = await deps.generator.generate(request, entries, controller.signal);
    // sharp (native) loads with the first job only: the sessions function, which never runs jobs
    // on AWS, ships without it.
    const { normalizeImage } = await import('../images/normalize');
    const normalized = await normalizeImage(Buffer.from(result.image.bytes), deps.imageLimits).catch(
      (err: unknown) => {
        throw err instanceof ImageRejectedError
          ? new JobFailure(
              'malformed_image',
              `The provider's image could not be used: ${err.message}`,
              result?.attempts,
            )
          : err;
      },
    );
    const imageId = await storeImage(deps, record, result, normalized);
    const done = await generations.finish(job.sessionId, job.generationId, claimToken, result, imageId);
    // The provider was paid whatever happens to the record: the cost always counts.
    await deps.addSessionCost?.(job.sessionId, result.costUsd);
    if (done.kind !== 'changed') {
      log.warn('generation finished after its record moved on', {
        ...job,
        status: done.kind === 'missing' ? 'missing' : done.record.status,
      });
      return { kind: 'failed', record: done.kind === 'missing' ? undefined : done.record, code: 'job_lost' };
    }
    log.info('generation ready', {
      ...job,
      imageId,
      provider: result.entry.provider,
      model: result.entry.model,
      costUsd: result.costUsd,
      attempts: result.attempts.length,
      fallbackUsed: result.fallbackUsed,
      ms: Date.now() - started,
    });
    return { kind: 'ready', record: done.record };
  } catch (err) {
    const failure = failureOf(err, timedOut);
    const attempts = failure.attempts ?? result?.attempts ?? attemptsOf(err);
    const failed = await generations
      .fail(
        job.sessionId,
        job.generationId,
        { code: failure.code, message: failure.message },
        {
          claimToken,
          ...(attempts ? { attempts } : {}),
        },
      )
      .catch((writeErr: unknown) => {
        // The record stays running; reading it past its deadline fails it as job_lost.
        log.error('could not record a failed generation', { ...job, error: writeErr });
        return undefined;
      });
    const line = failure.code === 'internal_error' ? log.error : log.warn;
    line.call(log, 'generation failed', {
      ...job,
      code: failure.code,
      ...(failure.code === 'internal_error' ? { error: err } : { reason: failure.message }),
      ms: Date.now() - started,
    });
    return {
      kind: 'failed',
      record: failed && failed.kind !== 'missing' ? failed.record : undefined,
      code: failure.code,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** The runner may attach the attempts it made to its error; kept when it does. */
function attemptsOf(err: unknown): GenerationRecord['attempts'] | undefined {
  const a = (err as { attempts?: unknown } | null)?.attempts;
  return Array.isArray(a) ? (a as GenerationRecord['attempts']) : undefined;
}

async function imageRequest(deps: JobDeps, record: GenerationRecord): Promise<ImageRequest> {
  const { quality, aspect, style, editImageId } = record.options;
  const request: ImageRequest = { prompt: record.prompt, quality, aspect, ...(style ? { style } : {}) };
  if (!editImageId) return request;
  const image = await deps.store.getImage(record.sessionId, editImageId);
  if (!image || !isReadyImage(image))
    throw new JobFailure('edit_source_missing', 'The image to edit is no longer in the session.');
  const read = await deps.objects.read(image.key, deps.imageLimits.maxInputBytes);
  if (read.kind !== 'bytes')
    throw new JobFailure('edit_source_missing', 'The image to edit could not be read.');
  return { ...request, source: { bytes: read.bytes, mimeType: image.mime } };
}

/**
 * The entries usable now that cost at most what was approved: a fallback may be another model,
 * never a dearer one than the user agreed to.
 */
async function usableEntries(
  deps: JobDeps,
  record: GenerationRecord,
  request: ImageRequest,
): Promise<CatalogEntry[]> {
  const ceiling = record.approvedUsd ?? record.estimateUsd;
  const entries = (await deps.generator.candidates(request)).filter(
    (e) => e.priceUsd <= ceiling + 1e-9 && (!request.source || e.edits),
  );
  if (entries.length === 0)
    throw new JobFailure(
      'no_model_within_estimate',
      `No image model is available now for at most $${ceiling.toFixed(3)}.`,
    );
  return entries;
}

/**
 * The image joins the session: a pending item that already names every object it will own (so a
 * crash leaves nothing the session's deletion would not find), the provider's original, then the
 * normalized copy through the upload path. Returns the image id (an identical image the session
 * already had, when the bytes repeat one).
 */
async function storeImage(
  deps: JobDeps,
  record: GenerationRecord,
  result: GenerationResult,
  normalized: NormalizedImage,
): Promise<string> {
  const { store, objects, log } = deps;
  const { sessionId } = record;
  const imageId = newImageId();
  const format = normalized.sourceFormat;
  const extension = ORIGINAL_EXTENSIONS[format as keyof typeof ORIGINAL_EXTENSIONS] ?? 'png';
  const originalKey = originalImageKey(sessionId, imageId, extension);
  const originalMime = `image/${format}`;
  await store.putPendingImage({
    sessionId,
    imageId,
    source: 'generated',
    generated: { generationId: record.generationId, prompt: record.prompt, originalKey, originalMime },
  });
  try {
    await objects.put(originalKey, Buffer.from(result.image.bytes), originalMime);
    const stored = await ingestNormalizedImage(
      { store, objects, log },
      { sessionId, imageId, normalized, onDuplicate: 'delete' },
    );
    if (stored.imageId !== imageId) await objects.delete(originalKey);
    return stored.imageId;
  } catch (err) {
    // Nothing of a refused or failed store stays behind: its original, then its pending item.
    await objects
      .delete(originalKey)
      .then(() => store.deletePendingImage(sessionId, imageId))
      .catch((cleanupErr: unknown) =>
        log.warn('could not remove a generated image after a failed store', { imageId, error: cleanupErr }),
      );
    throw err;
  }
}
