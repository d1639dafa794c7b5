// The bucket event notifications the local S3 emulator sends (s3rver has none): after an object
// is created, each subscription whose prefix matches receives the event JSON S3 sends to Lambda
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html),
// key URL-encoded as S3 writes it. Delivered asynchronously after the upload is answered, as S3
// does; `settled()` lets a test wait for every delivery in flight instead of sleeping.
import { randomBytes } from 'node:crypto';
import type { S3Event } from 'aws-lambda';

export interface CreatedObject {
  bucket: string;
  key: string;
  size: number;
  eTag: string;
  /** ObjectCreated:Post for a browser's form upload. */
  eventName: 'ObjectCreated:Post';
  sourceIp: string;
}

export interface NotificationSubscription {
  /** Key prefix filter, as the bucket's notification configuration has it. */
  prefix: string;
  /** Receives the event; a rejection is dropped here (the receiver logs its own failures). */
  deliver(event: S3Event): Promise<unknown>;
}

/** S3's key encoding in notifications: each path segment URL-encoded, spaces as "+". */
export function notificationEncodedKey(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/%20/g, '+'))
    .join('/');
}

export function objectCreatedEvent(created: CreatedObject, region: string, now: Date): S3Event {
  const hex = (bytes: number) => randomBytes(bytes).toString('hex').toUpperCase();
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: region,
        eventTime: now.toISOString(),
        eventName: created.eventName,
        userIdentity: { principalId: 'AWS:LOCALPRINCIPAL' },
        requestParameters: { sourceIPAddress: created.sourceIp },
        responseElements: { 'x-amz-request-id': hex(8), 'x-amz-id-2': randomBytes(48).toString('base64') },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'local-notification',
          bucket: {
            name: created.bucket,
            ownerIdentity: { principalId: 'LOCALOWNER' },
            arn: `arn:aws:s3:::${created.bucket}`,
          },
          object: {
            key: notificationEncodedKey(created.key),
            size: created.size,
            eTag: created.eTag,
            sequencer: now.getTime().toString(16).toUpperCase().padStart(16, '0'),
          },
        },
      },
    ],
  };
}

export class S3Notifications {
  private readonly subscriptions = new Set<NotificationSubscription>();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly region: string) {}

  /** Adds a notification target; returns its removal. */
  subscribe(subscription: NotificationSubscription): () => void {
    this.subscriptions.add(subscription);
    return () => this.subscriptions.delete(subscription);
  }

  publish(created: CreatedObject): void {
    for (const sub of this.subscriptions) {
      if (!created.key.startsWith(sub.prefix)) continue;
      const event = objectCreatedEvent(created, this.region, new Date());
      const delivery = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => sub.deliver(event))
        .catch(() => undefined)
        .finally(() => this.inFlight.delete(delivery));
      this.inFlight.add(delivery);
    }
  }

  /** Resolves once every delivery started so far (and any they caused) has finished. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}
