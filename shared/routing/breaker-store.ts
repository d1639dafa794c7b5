// DynamoDB I/O of the circuit breaker, in the control table. One partition per target:
//   pk=BREAKER#<target> sk=STATE                      the state, written only conditionally on `version`
//   pk=BREAKER#<target> sk=FAIL#<generation>#<bucket>  a failure counter per time bucket, ADDed atomically
// Every call carries a short deadline; errors propagate so the breaker can fail open.
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailed, withDeadline } from '../limits/control-table';
import { bucketStartOf, countedBuckets, INITIAL_RECORD } from './breaker-policy';
import type { BreakerRecord } from './breaker-record';
import type { BreakerSettings } from './breaker-settings';
import type { BreakerState } from './breaker-types';

/** State items outlive any cooldown by far; the TTL only clears targets that left the routes. */
const STATE_TTL_SECONDS = 7 * 24 * 3600;
/** Zero-padding keeps the sort keys in numeric order, so a window is one BETWEEN range. */
const GENERATION_DIGITS = 8;
const TIME_DIGITS = 15;

export const breakerKeys = {
  partition: (target: string): string => `BREAKER#${target}`,
  state: 'STATE',
  failureBucket: (generation: number, bucketStart: number): string =>
    `FAIL#${String(generation).padStart(GENERATION_DIGITS, '0')}#${String(bucketStart).padStart(TIME_DIGITS, '0')}`,
} as const;

/** What must still hold for a state write to go through, besides the version. */
export type WriteGuard =
  | { kind: 'none' }
  /** Taking the probe: no live lease may exist (a lease ends at probeLeaseUntil, as in the policy). */
  | { kind: 'lease_free' }
  /** Reporting a probe's outcome: the lease must still be this probe's. */
  | { kind: 'probe_holder'; probeId: string };

export interface FailureSummary {
  failures: number;
  lastErrorClass?: string;
  lastFailureAt?: number;
}

export class BreakerStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly settings: BreakerSettings,
  ) {}

  async read(target: string): Promise<BreakerRecord> {
    const out = await withDeadline(this.settings.storeTimeoutMs, (abortSignal) =>
      this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: breakerKeys.partition(target), sk: breakerKeys.state },
          ConsistentRead: true,
        }),
        { abortSignal },
      ),
    );
    return out.Item ? toRecord(out.Item) : { ...INITIAL_RECORD };
  }

  /**
   * Writes `next` only if the stored state is still `expected` (same version and state).
   * Returns false when another caller moved the state first; the caller re-reads.
   */
  async compareAndSet(
    target: string,
    expected: BreakerRecord,
    next: BreakerRecord,
    now: number,
    guard: WriteGuard,
  ): Promise<boolean> {
    const names: Record<string, string> = {
      '#state': 'state',
      '#version': 'version',
      '#generation': 'generation',
      '#openUntil': 'openUntil',
      '#cooldownMs': 'cooldownMs',
      '#lease': 'probeLeaseUntil',
      '#ttl': 'ttl',
    };
    const values: Record<string, unknown> = {
      ':state': next.state,
      ':version': next.version,
      ':generation': next.generation,
      ':openUntil': next.openUntil,
      ':cooldownMs': next.cooldownMs,
      ':lease': next.probeLeaseUntil,
      ':ttl': Math.ceil(now / 1000) + STATE_TTL_SECONDS,
    };
    const sets = [
      '#state = :state',
      '#version = :version',
      '#generation = :generation',
      '#openUntil = :openUntil',
      '#cooldownMs = :cooldownMs',
      '#lease = :lease',
      '#ttl = :ttl',
    ];
    const removes: string[] = [];
    const optional = {
      probeId: next.probeId,
      lastErrorClass: next.lastErrorClass,
      lastFailureAt: next.lastFailureAt,
    };
    for (const [attr, value] of Object.entries(optional)) {
      names[`#${attr}`] = attr;
      if (value === undefined) {
        removes.push(`#${attr}`);
      } else {
        sets.push(`#${attr} = :${attr}`);
        values[`:${attr}`] = value;
      }
    }

    let condition: string;
    if (expected.version === 0) {
      // Nobody has written this target yet, so there is no lease or probe to check either.
      condition = 'attribute_not_exists(#version)';
    } else {
      condition = '#version = :expectedVersion AND #state = :expectedState';
      values[':expectedVersion'] = expected.version;
      values[':expectedState'] = expected.state;
      if (guard.kind === 'lease_free') {
        condition += ' AND #lease <= :now';
        values[':now'] = now;
      } else if (guard.kind === 'probe_holder') {
        condition += ' AND #probeId = :holder';
        values[':holder'] = guard.probeId;
      }
    }

    try {
      await withDeadline(this.settings.storeTimeoutMs, (abortSignal) =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: breakerKeys.partition(target), sk: breakerKeys.state },
            UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
          { abortSignal },
        ),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  /** Counts one failure in the current bucket (one atomic ADD); returns that bucket's count. */
  async addFailure(target: string, generation: number, now: number, errorClass: string): Promise<number> {
    const bucketStart = bucketStartOf(now, this.settings);
    // Kept until it can no longer fall inside any window, plus a minute of slack.
    const ttl = Math.ceil((bucketStart + this.settings.windowMs + this.settings.bucketMs) / 1000) + 60;
    const out = await withDeadline(this.settings.storeTimeoutMs, (abortSignal) =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: breakerKeys.partition(target), sk: breakerKeys.failureBucket(generation, bucketStart) },
          UpdateExpression:
            'ADD #failures :one SET #ttl = :ttl, #lastErrorClass = :errorClass, #lastFailureAt = :now',
          ExpressionAttributeNames: {
            '#failures': 'failures',
            '#ttl': 'ttl',
            '#lastErrorClass': 'lastErrorClass',
            '#lastFailureAt': 'lastFailureAt',
          },
          ExpressionAttributeValues: { ':one': 1, ':ttl': ttl, ':errorClass': errorClass, ':now': now },
          ReturnValues: 'UPDATED_NEW',
        }),
        { abortSignal },
      ),
    );
    return num(out.Attributes?.failures);
  }

  /** Failures of `generation` in the buckets that count at `now` (one Query of at most a window of items). */
  async countFailures(target: string, generation: number, now: number): Promise<FailureSummary> {
    const { first, last } = countedBuckets(now, this.settings);
    const out = await withDeadline(this.settings.storeTimeoutMs, (abortSignal) =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :first AND :last',
          ExpressionAttributeValues: {
            ':pk': breakerKeys.partition(target),
            ':first': breakerKeys.failureBucket(generation, first),
            ':last': breakerKeys.failureBucket(generation, last),
          },
          ConsistentRead: true,
        }),
        { abortSignal },
      ),
    );
    const summary: FailureSummary = { failures: 0 };
    for (const item of out.Items ?? []) {
      summary.failures += num(item.failures);
      const at = optionalNum(item.lastFailureAt);
      if (at !== undefined && (summary.lastFailureAt === undefined || at > summary.lastFailureAt)) {
        summary.lastFailureAt = at;
        summary.lastErrorClass = optionalStr(item.lastErrorClass);
      }
    }
    return summary;
  }
}

function toRecord(item: Record<string, unknown>): BreakerRecord {
  const rec: BreakerRecord = {
    state: toState(item.state),
    version: num(item.version),
    generation: num(item.generation),
    openUntil: num(item.openUntil),
    cooldownMs: num(item.cooldownMs),
    probeLeaseUntil: num(item.probeLeaseUntil),
  };
  const probeId = optionalStr(item.probeId);
  if (probeId !== undefined) rec.probeId = probeId;
  const lastErrorClass = optionalStr(item.lastErrorClass);
  if (lastErrorClass !== undefined) rec.lastErrorClass = lastErrorClass;
  const lastFailureAt = optionalNum(item.lastFailureAt);
  if (lastFailureAt !== undefined) rec.lastFailureAt = lastFailureAt;
  return rec;
}

function toState(v: unknown): BreakerState {
  return v === 'open' || v === 'half_open' ? v : 'closed';
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function optionalNum(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function optionalStr(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
