// Opens a stream for a turn over the ordered targets of its route: skips open breakers, retries
// what is retryable with jittered backoff (honouring retry-after), fails over on errors and on a
// first-byte timeout, optionally hedges. Everything here happens BEFORE the first upstream byte
// reaches the client; once a stream is returned, the provider is fixed for the turn.
import { inBackground } from '../background';
import { UpstreamError } from '../errors';
import type { ChatRequest } from '../openai/schema';
import type { Providers } from '../providers/registry';
import type { StreamEvent } from '../providers/types';
import {
  countsAsFailure,
  isLocalFailure,
  LOCAL_INTERNAL_ERROR,
  localRequestError,
  toUpstreamError,
} from '../providers/upstream-error';
import type { Admission, BreakerLike } from './breaker-types';
import { type Route, type RouteTarget, targetModel } from './routes';

export interface FallbackSettings {
  /** Default first-byte timeout when neither the route nor the target sets one. */
  firstByteTimeoutMs: number;
  /** Extra tries of the same target for retryable errors (429, 5xx, 529, resets). */
  maxRetriesPerTarget: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Latency budget for getting a first byte from anyone; no retry or failover starts past it. */
  turnBudgetMs: number;
}

export const DEFAULT_FALLBACK_SETTINGS: FallbackSettings = {
  firstByteTimeoutMs: 8000,
  maxRetriesPerTarget: 1,
  backoffBaseMs: 150,
  backoffMaxMs: 2000,
  turnBudgetMs: 20_000,
};

export type AttemptOutcome =
  | 'ok'
  | 'failed'
  | 'skipped_open'
  | 'skipped_unconfigured'
  | 'hedge_lost'
  | 'aborted';

export interface AttemptRecord {
  target: string;
  outcome: AttemptOutcome;
  retry: number;
  hedge: boolean;
  ms: number;
  errorClass?: string;
  upstreamStatus?: number;
}

export interface OpenStream {
  target: RouteTarget;
  model: string;
  first: StreamEvent;
  rest: AsyncIterator<StreamEvent>;
  attempts: AttemptRecord[];
  /** Milliseconds from openStream() to the first upstream event. */
  firstEventMs: number;
  /** Stops the upstream call (client gone, or upstream timeout). */
  abort(reason?: unknown): void;
  /** Reports how the stream ended, for the circuit breaker. */
  settle(error?: UpstreamError): void;
}

export interface FallbackDeps {
  providers: Providers;
  breaker: BreakerLike;
  settings: FallbackSettings;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  now?: () => number;
  random?: () => number;
  log?: (level: 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void;
  /** Final per-target touches to the request (e.g. image delivery inline vs URL). */
  prepareRequest?: (target: RouteTarget, request: ChatRequest) => Promise<ChatRequest>;
}

/** Raised when no target produced a first byte; names every target and what happened to it. */
export class AllTargetsFailedError extends UpstreamError {
  readonly attempts: AttemptRecord[];
  constructor(
    message: string,
    opts: ConstructorParameters<typeof UpstreamError>[1],
    attempts: AttemptRecord[],
  ) {
    super(message, opts);
    this.attempts = attempts;
  }
}

type Started =
  | {
      ok: true;
      first: StreamEvent;
      it: AsyncIterator<StreamEvent>;
      ctrl: AbortController;
      /** Unlinks the turn's signal from this attempt, once its stream is over. */
      detach: () => void;
    }
  | { ok: false; error: UpstreamError };

interface Running {
  key: number;
  target: RouteTarget;
  admission: Admission;
  retry: number;
  hedge: boolean;
  startedAt: number;
  ctrl: AbortController;
  done: Promise<{ key: number; result: Started }>;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Jittered exponential backoff; a server's retry-after wins when it asks for longer. */
export function backoffMs(
  retry: number,
  s: FallbackSettings,
  retryAfterMs: number | undefined,
  random: () => number,
): number {
  const exp = Math.min(s.backoffMaxMs, s.backoffBaseMs * 2 ** (retry - 1));
  const jittered = exp / 2 + random() * (exp / 2);
  return retryAfterMs !== undefined ? Math.max(retryAfterMs, jittered) : jittered;
}

export async function openStream(
  route: Route,
  request: ChatRequest,
  deps: FallbackDeps,
): Promise<OpenStream> {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const { settings, breaker, providers } = deps;
  const t0 = now();
  const deadline = t0 + settings.turnBudgetMs;
  const attempts: AttemptRecord[] = [];
  const failures: { target: string; detail: string; error?: UpstreamError }[] = [];
  const running = new Map<number, Running>();
  let nextTarget = 0;
  let keySeq = 0;
  let hedged = false;

  const firstByteTimeout = (t: RouteTarget) =>
    Math.max(
      1,
      Math.min(
        t.options.firstByteTimeoutMs ?? route.firstByteTimeoutMs ?? settings.firstByteTimeoutMs,
        deadline - now(),
      ),
    );

  function start(
    target: RouteTarget,
    admission: Admission,
    retry: number,
    delayMs: number,
    hedge: boolean,
  ): void {
    const provider = providers.get(target.provider)!;
    const ctrl = new AbortController();
    // The turn's signal stays linked to the attempt for as long as it runs: through the backoff
    // sleep, the wait for the first event and, for the winner, the whole stream (until settle),
    // so a client that hangs up stops the upstream wherever the turn is.
    const onClientAbort = () => ctrl.abort(deps.signal.reason);
    const detach = () => deps.signal.removeEventListener('abort', onClientAbort);
    if (deps.signal.aborted) ctrl.abort(deps.signal.reason);
    else deps.signal.addEventListener('abort', onClientAbort, { once: true });
    const key = keySeq++;
    const run = async (): Promise<Started> => {
      await sleep(delayMs, ctrl.signal);
      if (ctrl.signal.aborted) {
        detach();
        return { ok: false, error: toUpstreamError(ctrl.signal.reason, target.provider, ctrl.signal) };
      }
      const timeoutMs = firstByteTimeout(target);
      const timer = setTimeout(() => {
        ctrl.abort(
          new UpstreamError(`${target.id} sent nothing within the ${timeoutMs} ms first-byte timeout`, {
            status: 504,
            errorClass: 'first_byte_timeout',
            code: 'upstream_first_byte_timeout',
          }),
        );
      }, timeoutMs);
      let won = false;
      // Some upstream calls cannot be interrupted promptly; the abort promise makes sure a
      // timeout or a cancelled hedge settles this attempt at once anyway.
      const aborted = new Promise<never>((_, reject) => {
        if (ctrl.signal.aborted) reject(ctrl.signal.reason);
        ctrl.signal.addEventListener('abort', () => reject(ctrl.signal.reason), { once: true });
      });
      let it: AsyncIterator<StreamEvent> | undefined;
      try {
        // Image delivery for this target is our own work: its failure is never the target's.
        const prepared = deps.prepareRequest
          ? await Promise.race([
              deps.prepareRequest(target, request).catch((err: unknown) => {
                throw localRequestError(err, target.provider);
              }),
              aborted,
            ])
          : request;
        it = provider
          .stream({
            model: targetModel(target, request.model),
            request: prepared,
            signal: ctrl.signal,
            overrides: target.options,
          })
          [Symbol.asyncIterator]();
        const r = await Promise.race([it.next(), aborted]);
        if (r.done) {
          throw new UpstreamError(`${target.id} returned an empty response`, {
            errorClass: 'empty_response',
            retryable: true,
            code: 'upstream_empty_response',
          });
        }
        won = true;
        return { ok: true, first: r.value, it, ctrl, detach };
      } catch (err) {
        ctrl.abort(err);
        void it?.return?.().catch(() => {});
        return { ok: false, error: toUpstreamError(err, target.provider, ctrl.signal) };
      } finally {
        clearTimeout(timer);
        if (!won) detach();
        aborted.catch(() => {});
      }
    };
    const startedAt = now();
    running.set(key, {
      key,
      target,
      admission,
      retry,
      hedge,
      startedAt,
      ctrl,
      done: run().then((result) => ({ key, result })),
    });
  }

  async function launchNext(hedge: boolean): Promise<boolean> {
    while (nextTarget < route.targets.length && now() < deadline && !deps.signal.aborted) {
      const target = route.targets[nextTarget++]!;
      const provider = providers.get(target.provider);
      if (!provider?.configured) {
        attempts.push({ target: target.id, outcome: 'skipped_unconfigured', retry: 0, hedge, ms: 0 });
        failures.push({
          target: target.id,
          detail: provider ? 'not configured (no API key, or disabled)' : 'unknown provider',
        });
        continue;
      }
      const admission = await breaker.admit(target.id);
      if (!admission.allowed) {
        attempts.push({ target: target.id, outcome: 'skipped_open', retry: 0, hedge, ms: 0 });
        const until = admission.retryAtMs ? ` until ${new Date(admission.retryAtMs).toISOString()}` : '';
        failures.push({ target: target.id, detail: `circuit ${admission.state}${until}` });
        continue;
      }
      start(target, admission, 0, 0, hedge);
      return true;
    }
    return false;
  }

  await launchNext(false);
  while (running.size > 0) {
    const hedgeAt =
      route.hedgeAfterMs !== undefined && !hedged && running.size === 1 && nextTarget < route.targets.length
        ? [...running.values()][0]!.startedAt + route.hedgeAfterMs
        : undefined;
    let hedgeTimer: ReturnType<typeof setTimeout> | undefined;
    const hedgeSignal =
      hedgeAt === undefined
        ? undefined
        : new Promise<'hedge'>((resolve) => {
            hedgeTimer = setTimeout(() => resolve('hedge'), Math.max(0, hedgeAt - now()));
          });
    const winner = await Promise.race([
      ...[...running.values()].map((r) => r.done),
      ...(hedgeSignal ? [hedgeSignal] : []),
    ]);
    clearTimeout(hedgeTimer);
    if (winner === 'hedge') {
      hedged = true;
      await launchNext(true);
      continue;
    }
    const run = running.get(winner.key)!;
    running.delete(winner.key);
    const ms = now() - run.startedAt;
    const { result } = winner;
    if (result.ok) {
      for (const other of running.values()) {
        other.ctrl.abort(new UpstreamError('hedge lost', { errorClass: 'aborted' }));
        attempts.push({
          target: other.target.id,
          outcome: 'hedge_lost',
          retry: other.retry,
          hedge: other.hedge,
          ms: now() - other.startedAt,
        });
      }
      attempts.push({ target: run.target.id, outcome: 'ok', retry: run.retry, hedge: run.hedge, ms });
      let settled = false;
      return {
        target: run.target,
        model: targetModel(run.target, request.model),
        first: result.first,
        rest: result.it,
        attempts,
        firstEventMs: now() - t0,
        abort: (reason) => result.ctrl.abort(reason),
        settle(error) {
          if (settled) return;
          settled = true;
          result.detach();
          if (error && countsAsFailure(error))
            inBackground(breaker.recordFailure(run.target.id, run.admission, error.errorClass));
          else if (!error) inBackground(breaker.recordSuccess(run.target.id, run.admission));
        },
      };
    }
    const error = result.error;
    if (deps.signal.aborted) {
      // Every attempt still running (a hedge, a retry in its backoff) is being aborted through
      // the same signal; the record names them all.
      for (const r of [run, ...running.values()]) {
        const rMs = r === run ? ms : now() - r.startedAt;
        attempts.push({ target: r.target.id, outcome: 'aborted', retry: r.retry, hedge: r.hedge, ms: rMs });
      }
      break;
    }
    attempts.push({
      target: run.target.id,
      outcome: 'failed',
      retry: run.retry,
      hedge: run.hedge,
      ms,
      errorClass: error.errorClass,
      ...(error.upstreamStatus !== undefined ? { upstreamStatus: error.upstreamStatus } : {}),
    });
    if (countsAsFailure(error))
      inBackground(breaker.recordFailure(run.target.id, run.admission, error.errorClass));
    if (error.errorClass === LOCAL_INTERNAL_ERROR) {
      // Our own bug or an odd value we could not serialize: the client gets a 500, we get the cause.
      deps.log?.('error', 'request for target could not be prepared', {
        target: run.target.id,
        errorClass: error.errorClass,
        error: error.cause,
        stack:
          error.cause instanceof Error ? error.cause.stack?.split('\n').slice(0, 6).join('\n') : undefined,
      });
    } else {
      deps.log?.('warn', 'upstream attempt failed', {
        target: run.target.id,
        errorClass: error.errorClass,
        retry: run.retry,
      });
    }
    // A half-open probe is a single request: its failure has just re-opened the breaker, so
    // another try would be a second probe. Fail over instead.
    if (error.retryable && !run.admission.probe && run.retry < settings.maxRetriesPerTarget) {
      const delay = backoffMs(run.retry + 1, settings, error.retryAfterMs, random);
      if (now() + delay < deadline) {
        start(run.target, run.admission, run.retry + 1, delay, run.hedge);
        continue;
      }
    }
    failures.push({ target: run.target.id, detail: error.message, error });
    if (running.size === 0) await launchNext(false);
  }

  if (deps.signal.aborted) {
    throw new AllTargetsFailedError('client disconnected', { errorClass: 'aborted' }, attempts);
  }
  throw allFailed(route, failures, attempts, now() >= deadline);
}

function allFailed(
  route: Route,
  failures: { target: string; detail: string; error?: UpstreamError }[],
  attempts: AttemptRecord[],
  budgetSpent: boolean,
): AllTargetsFailedError {
  const summary = failures.map((f) => `${f.target}: ${f.detail}`).join('; ');
  const errors = failures.map((f) => f.error).filter((e): e is UpstreamError => e !== undefined);
  const prefix = `No provider could answer model route "${route.name}"`;
  if (errors.length === 0) {
    return new AllTargetsFailedError(
      `${prefix}: every target is unavailable (${summary || 'no targets'}).`,
      { status: 503, errorClass: 'all_targets_unavailable', code: 'all_targets_unavailable' },
      attempts,
    );
  }
  const all = (pred: (e: UpstreamError) => boolean) =>
    errors.length === failures.length && errors.every(pred);
  // Nothing reached an upstream: the caller's request (its 400, field named) or our own failure.
  if (all(isLocalFailure)) {
    const ours = errors.find((e) => e.errorClass === LOCAL_INTERNAL_ERROR);
    const first = ours ?? errors[0]!;
    return new AllTargetsFailedError(
      ours ? 'Internal server error while preparing the upstream request.' : first.message,
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
  if (all((e) => e.status === 400)) {
    return new AllTargetsFailedError(
      `${prefix}: ${summary}`,
      { status: 400, errorClass: 'http_4xx_request', code: 'upstream_invalid_request' },
      attempts,
    );
  }
  if (all((e) => e.status === 429)) {
    const wait = Math.max(...errors.map((e) => e.retryAfterMs ?? 1000));
    return new AllTargetsFailedError(
      `${prefix}: ${summary}`,
      { status: 429, errorClass: 'http_429', code: 'upstream_rate_limited', retryAfterMs: wait },
      attempts,
    );
  }
  const timeouts = errors.every((e) => e.status === 504);
  return new AllTargetsFailedError(
    `${prefix}${budgetSpent ? ' within the turn budget' : ''}: ${summary}`,
    { status: timeouts ? 504 : 502, errorClass: 'all_targets_failed', code: 'all_targets_failed' },
    attempts,
  );
}
