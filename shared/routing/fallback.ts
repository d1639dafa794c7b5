// Opens a stream for a turn over the ordered targets of its route: skips open breakers, retries
// what is retryable with jittered backoff (honouring retry-after), fails over on errors and on a
// first-byte timeout, optionally hedges. Everything here happens BEFORE the first upstream byte
// reaches the client; once a stream is returned, the provider is fixed for the turn. This file is
// the runner (attempts, timers, aborts, breaker reports); every decision is fallback-policy.ts.
import { abortableSleep } from '../abortable-sleep';
import { inBackground } from '../background';
import { UpstreamError } from '../errors';
import type { ChatRequest } from '../openai/schema';
import type { Providers } from '../providers/registry';
import type { StreamEvent } from '../providers/types';
import {
  countsAsFailure,
  LOCAL_INTERNAL_ERROR,
  localRequestError,
  toUpstreamError,
} from '../providers/upstream-error';
import type { Admission, BreakerLike } from './breaker-types';
import {
  afterFailure,
  firstByteTimeoutMs,
  hedgeDueAt,
  skipRefused,
  skipUnusable,
  type TargetFailure,
  type TargetSkip,
  turnFailure,
} from './fallback-policy';
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

export function openStream(route: Route, request: ChatRequest, deps: FallbackDeps): Promise<OpenStream> {
  return new Opening(route, request, deps).run();
}

/** One turn's opening: the attempts it started, and what became of each. */
class Opening {
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly t0: number;
  private readonly deadline: number;
  private readonly attempts: AttemptRecord[] = [];
  private readonly failures: TargetFailure[] = [];
  private readonly running = new Map<number, Running>();
  private nextTarget = 0;
  private keySeq = 0;
  private hedged = false;

  constructor(
    private readonly route: Route,
    private readonly request: ChatRequest,
    private readonly deps: FallbackDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.t0 = this.now();
    this.deadline = this.t0 + deps.settings.turnBudgetMs;
  }

  async run(): Promise<OpenStream> {
    await this.launchNext(false);
    while (this.running.size > 0) {
      const next = await this.nextResult();
      if (next === 'hedge') {
        this.hedged = true;
        await this.launchNext(true);
        continue;
      }
      const run = this.running.get(next.key)!;
      this.running.delete(next.key);
      const ms = this.now() - run.startedAt;
      if (next.result.ok) return this.won(run, next.result, ms);
      const error = next.result.error;
      const step = afterFailure(
        {
          retryable: error.retryable,
          retryAfterMs: error.retryAfterMs,
          retry: run.retry,
          probe: run.admission.probe,
        },
        {
          now: this.now(),
          deadline: this.deadline,
          aborted: this.deps.signal.aborted,
          othersRunning: this.running.size,
          targetsLeft: this.nextTarget < this.route.targets.length,
        },
        this.deps.settings,
        this.random,
      );
      if (step.kind === 'stop') {
        // Every attempt still running (a hedge, a retry in its backoff) is being aborted through
        // the same signal; the record names them all.
        for (const r of [run, ...this.running.values()]) {
          const rMs = r === run ? ms : this.now() - r.startedAt;
          this.attempts.push({
            target: r.target.id,
            outcome: 'aborted',
            retry: r.retry,
            hedge: r.hedge,
            ms: rMs,
          });
        }
        break;
      }
      this.recordFailure(run, error, ms);
      if (step.kind === 'retry') {
        this.start(run.target, run.admission, run.retry + 1, step.delayMs, run.hedge);
        continue;
      }
      this.failures.push({ target: run.target.id, detail: error.message, error });
      if (step.kind === 'fail_over') await this.launchNext(false);
    }
    if (this.deps.signal.aborted) {
      throw new AllTargetsFailedError('client disconnected', { errorClass: 'aborted' }, this.attempts);
    }
    const failure = turnFailure(this.route, this.failures, this.now() >= this.deadline);
    throw new AllTargetsFailedError(failure.message, failure.opts, this.attempts);
  }

  /** The first attempt to finish, or 'hedge' when the hedge is due first. */
  private async nextResult(): Promise<{ key: number; result: Started } | 'hedge'> {
    const running = [...this.running.values()];
    const hedgeAt = hedgeDueAt(
      this.route.hedgeAfterMs,
      this.hedged,
      running,
      this.nextTarget < this.route.targets.length,
    );
    let hedgeTimer: ReturnType<typeof setTimeout> | undefined;
    const hedgeDue =
      hedgeAt === undefined
        ? undefined
        : new Promise<'hedge'>((resolve) => {
            hedgeTimer = setTimeout(() => resolve('hedge'), Math.max(0, hedgeAt - this.now()));
          });
    try {
      return await Promise.race([...running.map((r) => r.done), ...(hedgeDue ? [hedgeDue] : [])]);
    } finally {
      clearTimeout(hedgeTimer);
    }
  }

  /** Starts the next target the policy does not skip; false when none is left. */
  private async launchNext(hedge: boolean): Promise<boolean> {
    const { route, deps } = this;
    while (this.nextTarget < route.targets.length && this.now() < this.deadline && !deps.signal.aborted) {
      const target = route.targets[this.nextTarget++]!;
      const unusable = skipUnusable(deps.providers.get(target.provider));
      if (unusable) {
        this.skip(target, unusable, hedge);
        continue;
      }
      const admission = await deps.breaker.admit(target.id);
      const refused = skipRefused(admission);
      if (refused) {
        this.skip(target, refused, hedge);
        continue;
      }
      this.start(target, admission, 0, 0, hedge);
      return true;
    }
    return false;
  }

  private skip(target: RouteTarget, skip: TargetSkip, hedge: boolean): void {
    this.attempts.push({ target: target.id, outcome: skip.outcome, retry: 0, hedge, ms: 0 });
    this.failures.push({ target: target.id, detail: skip.detail });
  }

  private start(
    target: RouteTarget,
    admission: Admission,
    retry: number,
    delayMs: number,
    hedge: boolean,
  ): void {
    const key = this.keySeq++;
    const ctrl = new AbortController();
    const startedAt = this.now();
    this.running.set(key, {
      key,
      target,
      admission,
      retry,
      hedge,
      startedAt,
      ctrl,
      done: this.attempt(target, ctrl, delayMs).then((result) => ({ key, result })),
    });
  }

  /** One attempt: backoff, per-target request, the call, and its first event within the timeout. */
  private async attempt(target: RouteTarget, ctrl: AbortController, delayMs: number): Promise<Started> {
    const { deps, request } = this;
    const provider = deps.providers.get(target.provider)!;
    // The turn's signal stays linked to the attempt for as long as it runs: through the backoff
    // sleep, the wait for the first event and, for the winner, the whole stream (until settle),
    // so a client that hangs up stops the upstream wherever the turn is. One listener per
    // attempt, none per event.
    const onClientAbort = () => ctrl.abort(deps.signal.reason);
    const detach = () => deps.signal.removeEventListener('abort', onClientAbort);
    if (deps.signal.aborted) ctrl.abort(deps.signal.reason);
    else deps.signal.addEventListener('abort', onClientAbort, { once: true });

    await abortableSleep(delayMs, ctrl.signal);
    if (ctrl.signal.aborted) {
      detach();
      return { ok: false, error: toUpstreamError(ctrl.signal.reason, target.provider, ctrl.signal) };
    }
    const timeoutMs = firstByteTimeoutMs(target, this.route, deps.settings, this.deadline - this.now());
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
  }

  /** The attempt's failure: in the record, to the breaker when it counts, in the log. */
  private recordFailure(run: Running, error: UpstreamError, ms: number): void {
    this.attempts.push({
      target: run.target.id,
      outcome: 'failed',
      retry: run.retry,
      hedge: run.hedge,
      ms,
      errorClass: error.errorClass,
      ...(error.upstreamStatus !== undefined ? { upstreamStatus: error.upstreamStatus } : {}),
    });
    if (countsAsFailure(error))
      inBackground(this.deps.breaker.recordFailure(run.target.id, run.admission, error.errorClass));
    if (error.errorClass === LOCAL_INTERNAL_ERROR) {
      // Our own bug or an odd value we could not serialize: the client gets a 500, we get the cause.
      this.deps.log?.('error', 'request for target could not be prepared', {
        target: run.target.id,
        errorClass: error.errorClass,
        error: error.cause,
        stack:
          error.cause instanceof Error ? error.cause.stack?.split('\n').slice(0, 6).join('\n') : undefined,
      });
    } else {
      this.deps.log?.('warn', 'upstream attempt failed', {
        target: run.target.id,
        errorClass: error.errorClass,
        retry: run.retry,
      });
    }
  }

  /** The winner's stream, every other attempt stopped as a lost hedge. */
  private won(run: Running, result: Extract<Started, { ok: true }>, ms: number): OpenStream {
    const { breaker } = this.deps;
    for (const other of this.running.values()) {
      other.ctrl.abort(new UpstreamError('hedge lost', { errorClass: 'aborted' }));
      this.attempts.push({
        target: other.target.id,
        outcome: 'hedge_lost',
        retry: other.retry,
        hedge: other.hedge,
        ms: this.now() - other.startedAt,
      });
    }
    this.attempts.push({ target: run.target.id, outcome: 'ok', retry: run.retry, hedge: run.hedge, ms });
    let settled = false;
    return {
      target: run.target,
      model: targetModel(run.target, this.request.model),
      first: result.first,
      rest: result.it,
      attempts: this.attempts,
      firstEventMs: this.now() - this.t0,
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
}
