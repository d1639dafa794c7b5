// DynamoDB I/O of "one live turn per conversation", in the control table:
//   pk=LIVE#<conversation key> sk=TURN   { turnId, startedAt, ttl }
// A turn claims the conversation with a conditional write that only a newer turn can win, and a
// streaming turn reads the item now and then to learn whether a newer one took over.
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailed, withDeadline } from '../limits/control-table';

/** Far longer than any turn; the TTL only clears conversations that went quiet. */
const LIVE_TURN_TTL_SECONDS = 3600;

export const liveTurnKeys = {
  partition: (conversationKey: string): string => `LIVE#${conversationKey}`,
  sort: 'TURN',
} as const;

export interface LiveTurnClaim {
  turnId: string;
  /** Epoch milliseconds the turn started; a claim only replaces an older one. */
  startedAt: number;
}

/** Where the live turn of each conversation is recorded, shared by every container. */
export interface LiveTurnStore {
  /** Records `claim` as the conversation's live turn unless a newer turn already holds it. */
  claim(conversationKey: string, claim: LiveTurnClaim): Promise<void>;
  /** The conversation's live turn id, if any. */
  holder(conversationKey: string): Promise<string | undefined>;
}

export interface DynamoLiveTurnStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Deadline of one read: a streaming turn polls, and a slow poll is simply skipped. */
  timeoutMs?: number;
  /**
   * Deadline of the claim. Longer: nobody waits for it (it is written beside the upstream call),
   * and a claim given up on would leave the older turn running.
   */
  claimTimeoutMs?: number;
}

export class DynamoLiveTurnStore implements LiveTurnStore {
  private readonly timeoutMs: number;
  private readonly claimTimeoutMs: number;

  constructor(private readonly opts: DynamoLiveTurnStoreOptions) {
    this.timeoutMs = opts.timeoutMs ?? 300;
    this.claimTimeoutMs = opts.claimTimeoutMs ?? 2000;
  }

  async claim(conversationKey: string, claim: LiveTurnClaim): Promise<void> {
    try {
      await withDeadline(this.claimTimeoutMs, (abortSignal) =>
        this.opts.client.send(
          new UpdateCommand({
            TableName: this.opts.tableName,
            Key: { pk: liveTurnKeys.partition(conversationKey), sk: liveTurnKeys.sort },
            UpdateExpression: 'SET #turnId = :turnId, #startedAt = :startedAt, #ttl = :ttl',
            // Two turns racing: the one that started later wins, whichever write lands last (ties
            // go to the larger id, so both containers agree on the winner).
            ConditionExpression:
              'attribute_not_exists(#startedAt) OR #startedAt < :startedAt OR (#startedAt = :startedAt AND #turnId < :turnId)',
            ExpressionAttributeNames: { '#turnId': 'turnId', '#startedAt': 'startedAt', '#ttl': 'ttl' },
            ExpressionAttributeValues: {
              ':turnId': claim.turnId,
              ':startedAt': claim.startedAt,
              ':ttl': Math.floor(claim.startedAt / 1000) + LIVE_TURN_TTL_SECONDS,
            },
          }),
          { abortSignal },
        ),
      );
    } catch (err) {
      // A newer turn already holds the conversation: this one is superseded, which the next
      // holder() read tells its caller.
      if (isConditionFailed(err)) return;
      throw err;
    }
  }

  async holder(conversationKey: string): Promise<string | undefined> {
    const out = await withDeadline(this.timeoutMs, (abortSignal) =>
      this.opts.client.send(
        new GetCommand({
          TableName: this.opts.tableName,
          Key: { pk: liveTurnKeys.partition(conversationKey), sk: liveTurnKeys.sort },
          ProjectionExpression: '#turnId',
          ExpressionAttributeNames: { '#turnId': 'turnId' },
          // A strongly consistent read bounds how late a superseded turn learns it: one poll.
          ConsistentRead: true,
        }),
        { abortSignal },
      ),
    );
    const id = out.Item?.turnId;
    return typeof id === 'string' ? id : undefined;
  }
}
