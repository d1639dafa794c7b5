// Circuit breaker per target ("openai:gpt-4o"), shared by every Lambda container through the
// control table: CLOSED -> OPEN (threshold failures within the window) -> HALF_OPEN (cooldown
// over; exactly one probe across all processes) -> CLOSED on probe success, or OPEN for longer.
// It is advisory: when DynamoDB fails or is slow it lets calls through and never throws.
import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type ControlLog, controlTableUnavailable } from '../limits/control-table';
import { ThrottledErrorLog } from '../observability/throttled-error-log';
import {
  type AdmissionDecision,
  closedAfterProbeRecord,
  decideAdmission,
  openRecord,
  probeTakenRecord,
  reachesThreshold,
  reopenedAfterProbeRecord,
  visibleState,
} from './breaker-policy';
import type { AdmissionTicket, BreakerHealth, BreakerRecord } from './breaker-record';
import { type BreakerSettings, resolveBreakerSettings } from './breaker-settings';
import { BreakerStore } from './breaker-store';
import type { Admission, BreakerLike } from './breaker-types';

export type { BreakerHealth } from './breaker-record';
export { type BreakerSettings, DEFAULT_BREAKER_SETTINGS } from './breaker-settings';
export type { Admission, BreakerState } from './breaker-types';

export interface CircuitBreakerOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  settings?: Partial<BreakerSettings>;
  /** Epoch milliseconds; injectable so tests can walk through cooldowns. */
  now?: () => number;
  log: ControlLog;
}

/** Conditional writes lost to other processes before we give up and refuse (never in practice). */
const MAX_RACE_ROUNDS = 3;

interface CachedRecord {
  record: BreakerRecord;
  readAt: number;
}

export class CircuitBreaker implements BreakerLike {
  readonly settings: BreakerSettings;
  private readonly store: BreakerStore;
  private readonly now: () => number;
  private readonly log: ControlLog;
  private readonly storeErrors: ThrottledErrorLog;
  private readonly cache = new Map<string, CachedRecord>();
  /** One state read in flight per target, however many turns want it. */
  private readonly reads = new Map<string, Promise<BreakerRecord>>();
  /** One probe-lease attempt in flight per target; the other callers of this process wait for it. */
  private readonly probeAttempts = new Map<string, Promise<Admission>>();
  /**
   * What each admission was decided on, kept beside it rather than in it so callers see the
   * plain Admission contract; the entry goes when the caller drops the admission.
   */
  private readonly tickets = new WeakMap<Admission, AdmissionTicket>();
  private storeSkippedUntil = Number.NEGATIVE_INFINITY;

  constructor(opts: CircuitBreakerOptions) {
    this.settings = resolveBreakerSettings(opts.settings);
    this.store = new BreakerStore(opts.client, opts.tableName, this.settings);
    this.now = opts.now ?? Date.now;
    this.log = opts.log;
    this.storeErrors = new ThrottledErrorLog(
      opts.log,
      controlTableUnavailable('circuit breaker'),
      this.settings.errorLogIntervalMs,
      this.now,
    );
  }

  /** Whether a call to `target` may go now. Never throws; fails open when the table is unavailable. */
  async admit(target: string): Promise<Admission> {
    const fresh = this.freshRecord(target);
    if (fresh) {
      const decision = decideAdmission(fresh, this.now());
      if (decision.kind !== 'take_probe') return this.admissionFor(decision, fresh);
    }
    if (this.skippingStore()) return failOpen();
    try {
      const rec = fresh ?? (await this.currentRecord(target));
      const decision = decideAdmission(rec, this.now());
      if (decision.kind !== 'take_probe') return this.admissionFor(decision, rec);
      return await this.takeProbeOnce(target, rec);
    } catch (err) {
      this.storeFailed(err, 'admit');
      return failOpen();
    }
  }

  /** A call admitted by `admission` succeeded. Free unless it was the probe, which closes the breaker. */
  async recordSuccess(target: string, admission: Admission): Promise<void> {
    const held = admission.probe ? this.tickets.get(admission)?.probeRecord : undefined;
    if (!held?.probeId || this.skippingStore()) return;
    try {
      const next = closedAfterProbeRecord(held, this.settings);
      const won = await this.store.compareAndSet(target, held, next, this.now(), {
        kind: 'probe_holder',
        probeId: held.probeId,
      });
      if (won) {
        this.remember(target, next);
        this.log('info', 'circuit breaker closed: probe succeeded', { target });
      } else {
        await this.staleProbeOutcome(target, 'success');
      }
    } catch (err) {
      this.storeFailed(err, 'recordSuccess');
    }
  }

  /**
   * A call admitted by `admission` failed in a way that says the target is unhealthy (see
   * countsAsFailure). Counted with one atomic write; opens the breaker at the threshold.
   */
  async recordFailure(target: string, admission: Admission, errorClass: string): Promise<void> {
    if (!admission.allowed || this.skippingStore()) return;
    try {
      const ticket = this.tickets.get(admission);
      const held = admission.probe ? ticket?.probeRecord : undefined;
      if (held?.probeId) {
        await this.reopenAfterProbe(target, held, held.probeId, errorClass);
        return;
      }
      const rec = this.freshRecord(target) ?? (await this.currentRecord(target));
      const generation = ticket?.generation ?? rec.generation;
      // Already open (nothing more to decide), or the call was admitted before a reset.
      if (rec.state !== 'closed' || generation < rec.generation) return;
      const now = this.now();
      const inBucket = await this.store.addFailure(target, generation, now, errorClass);
      const inWindow = reachesThreshold(inBucket, this.settings)
        ? inBucket
        : (await this.store.countFailures(target, generation, now)).failures;
      if (reachesThreshold(inWindow, this.settings))
        await this.open(target, rec, generation, errorClass, inWindow);
    } catch (err) {
      this.storeFailed(err, 'recordFailure');
    }
  }

  /** The state of each target for /health: two reads per target, off the hot path. */
  async snapshot(targets: readonly string[]): Promise<Record<string, BreakerHealth>> {
    const entries = await Promise.all(targets.map(async (t) => [t, await this.health(t)] as const));
    return Object.fromEntries(entries);
  }

  private async health(target: string): Promise<BreakerHealth> {
    try {
      const rec = await this.store.read(target);
      const now = this.now();
      this.remember(target, rec);
      const counted = await this.store.countFailures(target, rec.generation, now);
      const health: BreakerHealth = { state: visibleState(rec, now), recentFailures: counted.failures };
      const fromState = rec.lastFailureAt ?? Number.NEGATIVE_INFINITY;
      const fromBuckets = counted.lastFailureAt ?? Number.NEGATIVE_INFINITY;
      const last = fromBuckets > fromState ? counted : rec;
      if (last.lastErrorClass !== undefined) health.lastErrorClass = last.lastErrorClass;
      if (last.lastFailureAt !== undefined) health.lastFailureAt = last.lastFailureAt;
      if (rec.state !== 'closed') health.openUntil = rec.openUntil;
      return health;
    } catch (err) {
      this.storeErrors.report(err, { operation: 'snapshot' });
      return { state: 'closed', recentFailures: 0, storeUnavailable: true };
    }
  }

  /** Only one lease attempt per process: its concurrent callers share the outcome instead of racing. */
  private async takeProbeOnce(target: string, rec: BreakerRecord): Promise<Admission> {
    const pending = this.probeAttempts.get(target);
    if (pending) {
      const first = await pending;
      if (!first.probe) return first;
      const leaseUntil = this.tickets.get(first)?.probeRecord?.probeLeaseUntil;
      return { allowed: false, state: 'half_open', probe: false, retryAtMs: leaseUntil };
    }
    const attempt = this.takeProbe(target, rec);
    this.probeAttempts.set(target, attempt);
    try {
      return await attempt;
    } finally {
      this.probeAttempts.delete(target);
    }
  }

  private async takeProbe(target: string, rec: BreakerRecord): Promise<Admission> {
    let current = rec;
    for (let round = 0; round < MAX_RACE_ROUNDS; round++) {
      const now = this.now();
      const decision = decideAdmission(current, now);
      if (decision.kind !== 'take_probe') return this.admissionFor(decision, current);
      const next = probeTakenRecord(current, now, this.settings, randomUUID());
      if (await this.store.compareAndSet(target, current, next, now, { kind: 'lease_free' })) {
        this.remember(target, next);
        this.log('info', 'circuit breaker half-open: probe admitted', {
          target,
          leaseUntil: next.probeLeaseUntil,
          cooldownMs: next.cooldownMs,
        });
        return this.ticketed(
          { allowed: true, state: 'half_open', probe: true },
          { generation: next.generation, probeRecord: next },
        );
      }
      // Another process took the lease (or moved the state) first: act on what it wrote.
      current = await this.readRecord(target);
    }
    return {
      allowed: false,
      state: 'half_open',
      probe: false,
      retryAtMs: this.now() + this.settings.probeLeaseMs,
    };
  }

  private async open(
    target: string,
    rec: BreakerRecord,
    generation: number,
    errorClass: string,
    failures: number,
  ): Promise<void> {
    let current = rec;
    for (let round = 0; round < MAX_RACE_ROUNDS; round++) {
      // Someone else opened it, or a probe reset it while we counted: either way, done.
      if (current.state !== 'closed' || current.generation !== generation) return;
      const now = this.now();
      const next = openRecord(current, now, this.settings, errorClass);
      if (await this.store.compareAndSet(target, current, next, now, { kind: 'none' })) {
        this.remember(target, next);
        this.log('warn', 'circuit breaker opened', {
          target,
          failures,
          windowMs: this.settings.windowMs,
          errorClass,
          openUntil: next.openUntil,
        });
        return;
      }
      current = await this.readRecord(target);
    }
  }

  private async reopenAfterProbe(
    target: string,
    held: BreakerRecord,
    probeId: string,
    errorClass: string,
  ): Promise<void> {
    const now = this.now();
    const next = reopenedAfterProbeRecord(held, now, this.settings, errorClass);
    if (await this.store.compareAndSet(target, held, next, now, { kind: 'probe_holder', probeId })) {
      this.remember(target, next);
      this.log('warn', 'circuit breaker re-opened: probe failed', {
        target,
        errorClass,
        cooldownMs: next.cooldownMs,
        openUntil: next.openUntil,
      });
    } else {
      await this.staleProbeOutcome(target, 'failure');
    }
  }

  /** The probe's lease expired and another probe took over: its word no longer counts. */
  private async staleProbeOutcome(target: string, outcome: 'success' | 'failure'): Promise<void> {
    const fresh = await this.readRecord(target);
    this.log('info', 'circuit breaker ignored a probe outcome reported after its lease was lost', {
      target,
      outcome,
      state: fresh.state,
    });
  }

  private admissionFor(
    decision: Exclude<AdmissionDecision, { kind: 'take_probe' }>,
    rec: BreakerRecord,
  ): Admission {
    if (decision.kind === 'allow') {
      return this.ticketed({ allowed: true, state: 'closed', probe: false }, { generation: rec.generation });
    }
    return { allowed: false, state: decision.state, probe: false, retryAtMs: decision.retryAtMs };
  }

  private ticketed(admission: Admission, ticket: AdmissionTicket): Admission {
    this.tickets.set(admission, ticket);
    return admission;
  }

  private freshRecord(target: string): BreakerRecord | undefined {
    const hit = this.cache.get(target);
    return hit && this.now() - hit.readAt < this.settings.cacheTtlMs ? hit.record : undefined;
  }

  /** The cached record if fresh, else the result of the one read in flight for this target. */
  private currentRecord(target: string): Promise<BreakerRecord> {
    const fresh = this.freshRecord(target);
    if (fresh) return Promise.resolve(fresh);
    return this.reads.get(target) ?? this.readRecord(target);
  }

  /** A new read (never one that started before the caller lost a race), cached on arrival. */
  private readRecord(target: string): Promise<BreakerRecord> {
    const read = this.store
      .read(target)
      .then((rec) => {
        this.remember(target, rec);
        return rec;
      })
      .finally(() => {
        if (this.reads.get(target) === read) this.reads.delete(target);
      });
    this.reads.set(target, read);
    return read;
  }

  private remember(target: string, record: BreakerRecord): void {
    const now = this.now();
    const hit = this.cache.get(target);
    // A slow read must not replace a newer state this process just wrote.
    if (hit && record.version < hit.record.version && now - hit.readAt < this.settings.cacheTtlMs) return;
    this.cache.set(target, { record, readAt: now });
  }

  private skippingStore(): boolean {
    return this.now() < this.storeSkippedUntil;
  }

  private storeFailed(err: unknown, operation: string): void {
    // Skip the table for a while so an outage costs one slow call per interval, not one per turn.
    this.storeSkippedUntil = this.now() + this.settings.storeBackoffMs;
    this.storeErrors.report(err, { operation });
  }
}

function failOpen(): Admission {
  return { allowed: true, state: 'closed', probe: false };
}
