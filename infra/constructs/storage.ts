// The stack's state: the image bucket (plus its access-log bucket) and the two DynamoDB tables.
// Key names and prefixes come from shared/storage/schema.ts, the same module the stores use.
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { BUCKET_PREFIXES, RAW_UPLOAD_EXPIRY_DAYS, TABLE_KEYS } from '../../shared/storage/schema';

export interface StorageProps {
  removalPolicy: RemovalPolicy;
  /** Whether CloudFormation may empty the buckets on delete (stages whose data is disposable). */
  autoDeleteObjects: boolean;
  /** Browser origins allowed to POST uploads straight to the bucket. */
  allowedOrigins: string[];
  /** Days after which normalized images expire (at least the session TTL). */
  imageRetentionDays: number;
  /** Days to keep S3 server access logs. */
  accessLogRetentionDays: number;
}

export class Storage extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogBucket: s3.Bucket;
  readonly sessionsTable: dynamodb.Table;
  readonly controlTable: dynamodb.Table;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);

    // Access logs cannot go to an SSE-KMS bucket, and the log bucket does not log itself.
    this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: props.autoDeleteObjects,
      lifecycleRules: [
        { id: 'expire-access-logs', expiration: Duration.days(props.accessLogRetentionDays) },
        { id: 'abort-incomplete-multipart', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });

    // Versioning stays off: every object is short-lived by design, and a deleted session's
    // images must really be gone (noncurrent versions would keep them, and bill for them).
    this.bucket = new s3.Bucket(this, 'Images', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: props.autoDeleteObjects,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'images-bucket/',
      // Browsers upload with presigned POST forms; nothing else is served to them from S3.
      cors: [
        {
          allowedMethods: [s3.HttpMethods.POST],
          allowedOrigins: props.allowedOrigins,
          allowedHeaders: ['*'],
          exposedHeaders: ['ETag', 'Location'],
          maxAge: 3600,
        },
      ],
      lifecycleRules: [
        {
          id: 'expire-raw-uploads',
          prefix: BUCKET_PREFIXES.uploads,
          expiration: Duration.days(RAW_UPLOAD_EXPIRY_DAYS),
        },
        {
          id: 'expire-normalized-images',
          prefix: BUCKET_PREFIXES.images,
          expiration: Duration.days(props.imageRetentionDays),
        },
        { id: 'abort-incomplete-multipart', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });

    this.sessionsTable = this.table('SessionsTable', props.removalPolicy);
    this.controlTable = this.table('ControlTable', props.removalPolicy);
  }

  private table(id: string, removalPolicy: RemovalPolicy): dynamodb.Table {
    return new dynamodb.Table(this, id, {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: TABLE_KEYS.ttlAttribute,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy,
    });
  }
}
