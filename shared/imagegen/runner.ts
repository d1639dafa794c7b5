// Generates one image over the entries the catalog chose: the breaker admits each entry (one
// half-open probe at a time, across containers), each attempt has its own timeout, retryable
// failures are retried (retry-after honoured, bounded), others fail over; a refusal ends the run
// as the user's answer. The decisions are policy.ts's; this file does the I/O.

import { abortableSleep } from '../abortable-sleep';
import { inBackground } from '../background';
import type { BreakerSnapshotSource } from '../chat/app';
import { UpstreamError } from '../errors';
import type { Logger } from '../observability/log';
import {
  isLocalFailure,
  LOCAL_INTERNAL_ERROR,
  sendPhaseError,
  toUpstreamError,
} from '../providers/upstream-error';
import { type BreakerHealthView, breakerHealthView } from '../routing/breaker-record';
import { type BreakerLike, noBreaker } from '../routing/breaker-types';
import { breakerTargetOf, priceOf, selectCandidates } from './catalog';
import { ImageGenerationFailedError, ImageRefusedError } from './generation-errors';
import {
  countsAgainstBreaker,
  DEFAULT_IMAGE_RUN_SETTINGS,
  decideAfterFailure,
  type ImageRunSettings,
} from './policy';
import type { ImageProviders } from './providers/registry';
import type {
  CatalogEntry,
  GenerationResult,
  ImageAttempt,
  ImageGenerator,
  ImageProvider,
  ImageRequest,
  ProviderImage,
} from './types';

export interface ImageGeneratorDeps {
  catalog: readonly CatalogEntry[];
  providers: ImageProviders;
  /** The chat's persistent breaker (targets "image:<entry id>"); with `snapshot`, candidates skip open ones. */
  breaker?: BreakerLike & Partial<BreakerSnapshotSource>;
  settings?: Partial<ImageRunSettings>;
  log?: Logger;
  now?: () => number;
  random?: () => number;
}

/** One catalog entry as /health shows it, like the chat targets. */
export interface ImageTargetHealth extends BreakerHealthView {
  id: string;
  provider: string;
  model: string;
  quality: CatalogEntry['quality'];
  enabled: boolean;
  keyConfigured: boolean;
  priceUsd: number;
}

export interface ImageRunner extends ImageGenerator {
  readonly catalog: readonly CatalogEntry[];
  /** Every catalog entry with its key and breaker state, for /health. */
  health(): Promise<ImageTargetHealth[]>;
}

type Outcome = { ok: true; image: ProviderImage } | { ok: false; error: UpstreamError | ImageRefusedError };

/** One provider call under its own timeout, linked to the caller's signal; never rejects. */
async function attempt(
  provider: ImageProvider,
  entry: CatalogEntry,
  request: ImageRequest,
  caller: AbortSignal,
  timeoutMs: number,
): Promise<Outcome> {
  const ctrl = new AbortController();
  const onCallerAbort = () => ctrl.abort(caller.reason);
  if (caller.aborted) ctrl.abort(caller.reason);
  else caller.addEventListener('abort', onCallerAbort, { once: true });
  const timer = setTimeout(
    () =>
      ctrl.abort(
        new UpstreamError(`${entry.id} made no image within the ${timeoutMs} ms attempt timeout`, {
          status: 504,
          errorClass: 'timeout',
          code: 'upstream_timeout',
          retryable: true,
        }),
      ),
    timeoutMs,
  );
  // A provider that cannot be interrupted promptly (a download in flight) still settles now.
  const aborted = new Promise<never>((_, reject) => {
    if (ctrl.signal.aborted) reject(ctrl.signal.reason);
    ctrl.signal.addEventListener('abort', () => reject(ctrl.signal.reason), { once: true });
  });
  aborted.catch(() => {});
  try {
    const image = await Promise.race([provider.generate({ entry, request, signal: ctrl.signal }), aborted]);
    return { ok: true, image };
  } catch (err) {
    if (err instanceof ImageRefusedError && !ctrl.signal.aborted) return { ok: false, error: err };
    if (ctrl.signal.aborted)
      return { ok: false, error: toUpstreamError(ctrl.signal.reason ?? err, entry.provider, ctrl.signal) };
    if (err instanceof UpstreamError) return { ok: false, error: err };
    // Not classified by the provider: an SDK or network error is the upstream's, anything else ours.
    return { ok: false, error: sendPhaseError(err, entry.provider, ctrl.signal) };
  } finally {
    clearTimeout(timer);
    caller.removeEventListener('abort', onCallerAbort);
  }
}

export function createImageGenerator(deps: ImageGeneratorDeps): ImageRunner {
  const settings: ImageRunSettings = { ...DEFAULT_IMAGE_RUN_SETTINGS, ...deps.settings };
  const breaker = deps.breaker ?? noBreaker;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const { catalog, providers, log } = deps;
  const configured = (e: CatalogEntry) => providers.get(e.provider)?.configured ?? false;

  /** Breaker states of these entries; an unreadable store counts as closed (fail open, like chat). */
  async function states(entries: readonly CatalogEntry[]) {
    if (!deps.breaker?.snapshot || entries.length === 0) return {};
    try {
      return await deps.breaker.snapshot(entries.map(breakerTargetOf));
    } catch (err) {
      log?.warn('image breaker snapshot failed', { error: err });
      return {};
    }
  }

  async function candidates(
    request: Pick<ImageRequest, 'quality' | 'source'> & { aspect?: ImageRequest['aspect'] },
  ) {
    // Only entries that could serve the request are looked up in the breaker table.
    const possible = selectCandidates(catalog, request, (e) => ({ configured: configured(e), open: false }));
    const snap = await states(possible);
    return selectCandidates(possible, request, (e) => ({
      configured: true,
      open: snap[breakerTargetOf(e)]?.state === 'open',
    }));
  }

  async function generate(
    request: ImageRequest,
    entries: CatalogEntry[],
    signal: AbortSignal,
  ): Promise<GenerationResult> {
    const t0 = now();
    const attempts: ImageAttempt[] = [];
    const failures: { entryId: string; detail: string; error?: UpstreamError }[] = [];
    for (const entry of entries) {
      if (signal.aborted || now() - t0 >= settings.budgetMs) break;
      const provider = providers.get(entry.provider);
      if (!provider?.configured) {
        attempts.push({ entryId: entry.id, ok: false, errorClass: 'unconfigured', ms: 0 });
        failures.push({
          entryId: entry.id,
          detail: provider ? 'not configured (no API key, or disabled)' : 'unknown provider',
        });
        continue;
      }
      const target = breakerTargetOf(entry);
      const admission = await breaker.admit(target);
      if (!admission.allowed) {
        attempts.push({ entryId: entry.id, ok: false, errorClass: 'circuit_open', ms: 0 });
        const until = admission.retryAtMs ? ` until ${new Date(admission.retryAtMs).toISOString()}` : '';
        failures.push({ entryId: entry.id, detail: `circuit ${admission.state}${until}` });
        continue;
      }
      for (let retry = 0; ; retry++) {
        const started = now();
        const timeoutMs = Math.max(
          1,
          Math.min(settings.attemptTimeoutMs, settings.budgetMs - (started - t0)),
        );
        const outcome = await attempt(provider, entry, request, signal, timeoutMs);
        const ms = now() - started;
        if (outcome.ok) {
          attempts.push({ entryId: entry.id, ok: true, ms });
          inBackground(breaker.recordSuccess(target, admission));
          return {
            image: outcome.image,
            entry,
            costUsd: priceOf(entry, request.aspect),
            attempts,
            fallbackUsed: entry.id !== entries[0]?.id,
          };
        }
        const { error } = outcome;
        const refused = error instanceof ImageRefusedError;
        attempts.push({
          entryId: entry.id,
          ok: false,
          errorClass: refused ? 'refused' : error.errorClass,
          ms,
        });
        if (refused) {
          // The provider answered, and well: a probe that gets a refusal proves it is up.
          if (admission.probe) inBackground(breaker.recordSuccess(target, admission));
          log?.info('image refused by provider', { entryId: entry.id, providerCode: error.providerCode });
          error.attempts = attempts;
          throw error;
        }
        if (countsAgainstBreaker(error))
          inBackground(breaker.recordFailure(target, admission, error.errorClass));
        if (error.errorClass === LOCAL_INTERNAL_ERROR)
          log?.error('image request could not be prepared', { entryId: entry.id, error: error.cause });
        else log?.warn('image attempt failed', { entryId: entry.id, errorClass: error.errorClass, retry });
        const decision = decideAfterFailure({
          error,
          retry,
          probe: admission.probe,
          callerAborted: signal.aborted,
          msLeft: settings.budgetMs - (now() - t0),
          settings,
          random: random(),
        });
        if (decision.kind === 'retry') {
          await abortableSleep(decision.delayMs, signal);
          if (!signal.aborted) continue;
        }
        failures.push({ entryId: entry.id, detail: error.message, error });
        break;
      }
    }
    if (signal.aborted) {
      throw new ImageGenerationFailedError(
        'The image generation was cancelled.',
        { errorClass: 'aborted', code: 'generation_cancelled' },
        attempts,
      );
    }
    throw allFailed(failures, attempts, now() - t0 >= settings.budgetMs);
  }

  async function health(): Promise<ImageTargetHealth[]> {
    const snap = await states(catalog);
    return catalog.map((e) => {
      const s = snap[breakerTargetOf(e)];
      const h: ImageTargetHealth = {
        id: e.id,
        provider: e.provider,
        model: e.model,
        quality: e.quality,
        enabled: e.enabled,
        keyConfigured: configured(e),
        priceUsd: e.priceUsd,
        ...breakerHealthView(s),
      };
      return h;
    });
  }

  return { catalog, candidates, generate, health };
}

function allFailed(
  failures: { entryId: string; detail: string; error?: UpstreamError }[],
  attempts: ImageAttempt[],
  budgetSpent: boolean,
): ImageGenerationFailedError {
  const summary = failures.map((f) => `${f.entryId}: ${f.detail}`).join('; ');
  const errors = failures.map((f) => f.error).filter((e): e is UpstreamError => e !== undefined);
  const prefix = 'No image provider could make the image';
  if (errors.length === 0) {
    return new ImageGenerationFailedError(
      `${prefix}: none is available (${summary || 'no catalog entry fits the request'}).`,
      { status: 503, errorClass: 'all_targets_unavailable', code: 'no_image_provider_available' },
      attempts,
    );
  }
  const all = (pred: (e: UpstreamError) => boolean) =>
    errors.length === failures.length && errors.every(pred);
  if (all(isLocalFailure)) {
    const ours = errors.find((e) => e.errorClass === LOCAL_INTERNAL_ERROR);
    const first = ours ?? errors[0]!;
    return new ImageGenerationFailedError(
      ours ? 'Internal server error while preparing the image request.' : first.message,
      {
        status: ours ? 500 : 400,
        errorClass: first.errorClass,
        code: first.code ?? 'internal_error',
        param: ours ? null : first.param,
        cause: first.cause,
      },
      attempts,
    );
  }
  if (all((e) => e.status === 429)) {
    const wait = Math.max(...errors.map((e) => e.retryAfterMs ?? 1000));
    return new ImageGenerationFailedError(
      `${prefix}: ${summary}`,
      { status: 429, errorClass: 'http_429', code: 'upstream_rate_limited', retryAfterMs: wait },
      attempts,
    );
  }
  const timeouts = errors.every((e) => e.status === 504);
  return new ImageGenerationFailedError(
    `${prefix}${budgetSpent ? ' within its time budget' : ''}: ${summary}`,
    { status: timeouts ? 504 : 502, errorClass: 'all_targets_failed', code: 'image_generation_failed' },
    attempts,
  );
}
