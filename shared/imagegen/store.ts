// Image generations in the sessions table (GEN#<id> in the session's partition). Every change of
// state is one conditional write naming the state it leaves, so two confirmations queue once, two
// deliveries of one job claim it once, and only the job holding the claim may finish it. A
// record read past one of its deadlines is settled (expired / failed) on the way out.

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailed } from '../limits/control-table';
import { isGenerationId, isSessionId } from '../sessions/ids';
import { sessionKeys } from '../sessions/keys';
import {
  type GenerationDeadlines,
  type GenerationFailure,
  type GenerationRecord,
  type GenerationStatus,
  generationFromItem,
  overdue,
} from './records';
import type { GenerationResult } from './types';

export interface GenerationStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  deadlines: GenerationDeadlines;
  now?: () => number;
}

/** What a conditional transition found. */
export type Transition =
  | { kind: 'changed'; record: GenerationRecord }
  /** The generation was not in a state the transition leaves; `record` is how it is now. */
  | { kind: 'unchanged'; record: GenerationRecord }
  | { kind: 'missing' };

type Item = Record<string, unknown>;

export class GenerationStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly deadlines: GenerationDeadlines;
  private readonly now: () => number;

  constructor(opts: GenerationStoreOptions) {
    this.client = opts.client;
    this.table = opts.tableName;
    this.deadlines = opts.deadlines;
    this.now = opts.now ?? Date.now;
  }

  private key(sessionId: string, generationId: string) {
    return { pk: sessionKeys.partition(sessionId), sk: sessionKeys.generation(generationId) };
  }

  /**
   * Counts one more generation against the session's cap, in the same conditional write that
   * checks the session is alive. False when the cap is reached (or the session is gone).
   */
  async reserveSessionSlot(sessionId: string, max: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: sessionKeys.partition(sessionId), sk: sessionKeys.meta },
          UpdateExpression: 'SET generationCount = if_not_exists(generationCount, :zero) + :one',
          ConditionExpression:
            'attribute_exists(pk) AND expiresAt > :now AND (attribute_not_exists(generationCount) OR generationCount < :max)',
          ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':now': this.now(), ':max': max },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  async create(record: GenerationRecord): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...this.key(record.sessionId, record.generationId), ...record },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  /** The generation as it stands now (settling an overdue one first); undefined when there is none. */
  async get(sessionId: string, generationId: string): Promise<GenerationRecord | undefined> {
    if (!isSessionId(sessionId) || !isGenerationId(generationId)) return undefined;
    const out = await this.client.send(
      new GetCommand({ TableName: this.table, Key: this.key(sessionId, generationId), ConsistentRead: true }),
    );
    const record = out.Item ? generationFromItem(out.Item) : undefined;
    return record ? this.settle(record) : undefined;
  }

  /** Every generation of the session, oldest first, settled. */
  async list(sessionId: string): Promise<GenerationRecord[]> {
    if (!isSessionId(sessionId)) return [];
    const items: Item[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :gen)',
          ExpressionAttributeValues: {
            ':pk': sessionKeys.partition(sessionId),
            ':gen': sessionKeys.generationPrefix,
          },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      items.push(...((out.Items ?? []) as Item[]));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    const records = items.map(generationFromItem).filter((r): r is GenerationRecord => r !== undefined);
    const settled = await Promise.all(records.map((r) => this.settle(r)));
    return settled.sort((a, b) => a.createdAt - b.createdAt || (a.generationId < b.generationId ? -1 : 1));
  }

  /** Settles a record read past a deadline (one conditional write); what it is now. */
  async settle(record: GenerationRecord): Promise<GenerationRecord> {
    const now = this.now();
    const change = overdue(record, now, this.deadlines);
    if (!change) return record;
    const outcome = await this.transition(record.sessionId, record.generationId, [record.status], {
      status: change.status,
      finishedAt: now,
      ...(change.error ? { error: change.error } : {}),
    });
    return outcome.kind === 'missing' ? record : outcome.record;
  }

  /** awaiting_confirmation -> queued, at most once and only before `confirmBy`. */
  async confirm(sessionId: string, generationId: string, approvedUsd: number): Promise<Transition> {
    const now = this.now();
    return this.transition(
      sessionId,
      generationId,
      ['awaiting_confirmation'],
      { status: 'queued', queuedAt: now, approvedUsd },
      { extraCondition: 'confirmBy > :now', values: { ':now': now } },
    );
  }

  /** queued -> running for the job holding `claimToken`; a second delivery finds it running and leaves. */
  async claim(sessionId: string, generationId: string, claimToken: string): Promise<Transition> {
    return this.transition(sessionId, generationId, ['queued'], {
      status: 'running',
      startedAt: this.now(),
      claimToken,
    });
  }

  /** running -> ready, only by the job that claimed it. */
  async finish(
    sessionId: string,
    generationId: string,
    claimToken: string,
    result: GenerationResult,
    imageId: string,
  ): Promise<Transition> {
    return this.transition(
      sessionId,
      generationId,
      ['running'],
      {
        status: 'ready',
        finishedAt: this.now(),
        imageId,
        provider: result.entry.provider,
        model: result.entry.model,
        costUsd: result.costUsd,
        attempts: result.attempts,
        fallbackUsed: result.fallbackUsed,
        ...(result.image.revisedPrompt !== undefined ? { revisedPrompt: result.image.revisedPrompt } : {}),
      },
      { extraCondition: 'claimToken = :token', values: { ':token': claimToken } },
    );
  }

  /**
   * -> failed. With a claim token only the job holding it may fail it (running); without one, a
   * queued generation (its job could not be started).
   */
  async fail(
    sessionId: string,
    generationId: string,
    error: { code: GenerationFailure; message: string },
    opts: { claimToken?: string; attempts?: GenerationRecord['attempts'] } = {},
  ): Promise<Transition> {
    const fields = {
      status: 'failed' as const,
      finishedAt: this.now(),
      error,
      ...(opts.attempts ? { attempts: opts.attempts } : {}),
    };
    if (opts.claimToken === undefined) return this.transition(sessionId, generationId, ['queued'], fields);
    return this.transition(sessionId, generationId, ['running'], fields, {
      extraCondition: 'claimToken = :token',
      values: { ':token': opts.claimToken },
    });
  }

  /** awaiting_confirmation | queued -> cancelled; money is committed once a job runs it. */
  async cancel(sessionId: string, generationId: string): Promise<Transition> {
    return this.transition(sessionId, generationId, ['awaiting_confirmation', 'queued'], {
      status: 'cancelled',
      finishedAt: this.now(),
    });
  }

  /** One conditional UpdateItem from one of `from` to the fields given; on a lost race, the record as it is. */
  private async transition(
    sessionId: string,
    generationId: string,
    from: GenerationStatus[],
    fields: Partial<GenerationRecord>,
    opts: { extraCondition?: string; values?: Record<string, unknown> } = {},
  ): Promise<Transition> {
    if (!isSessionId(sessionId) || !isGenerationId(generationId)) return { kind: 'missing' };
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = { ...opts.values };
    const sets: string[] = [];
    for (const [i, [k, v]] of Object.entries(fields).entries()) {
      names[`#f${i}`] = k;
      values[`:f${i}`] = v;
      sets.push(`#f${i} = :f${i}`);
    }
    const fromList = from.map((s, i) => {
      values[`:from${i}`] = s;
      return `:from${i}`;
    });
    const condition = [`attribute_exists(pk)`, `#status IN (${fromList.join(', ')})`];
    if (opts.extraCondition) condition.push(opts.extraCondition);
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(sessionId, generationId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: condition.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      const record = out.Attributes ? generationFromItem(out.Attributes) : undefined;
      if (!record) throw new Error('generation item is incomplete after an update');
      return { kind: 'changed', record };
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
    const out = await this.client.send(
      new GetCommand({ TableName: this.table, Key: this.key(sessionId, generationId), ConsistentRead: true }),
    );
    const record = out.Item ? generationFromItem(out.Item) : undefined;
    return record ? { kind: 'unchanged', record } : { kind: 'missing' };
  }
}
