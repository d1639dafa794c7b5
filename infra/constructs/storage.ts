// The stack's state: the image bucket (plus its access-log bucket) and the two DynamoDB tables.
// Key names and prefixes come from shared/storage/schema.ts, the same module the stores use.
import { CfnResource, Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
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
  /** Days to keep the logs of CDK's bucket-notification handler (it runs on deployments only). */
  handlerLogRetentionDays: number;
}

/** The logical id CDK gives its one bucket-notifications handler per stack (aws-s3's NotificationsResourceHandler). */
export const NOTIFICATIONS_HANDLER_ID = 'BucketNotificationsHandler050a0587b7544547bf325f094a3db834';

export class Storage extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogBucket: s3.Bucket;
  readonly sessionsTable: dynamodb.Table;
  readonly controlTable: dynamodb.Table;
  private readonly props: StorageProps;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    this.props = props;

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

  /**
   * Every object created under uploads/ invokes `fn` (asynchronously, S3's event JSON), which
   * removes the ones no pending upload waits for. CDK adds a singleton custom resource (its
   * BucketNotificationsHandler function) that writes the bucket's notification configuration;
   * S3 may invoke `fn` only for this bucket, from this account (the permission CDK adds).
   */
  notifyRawUploads(fn: lambda.IFunction): void {
    this.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.LambdaDestination(fn), {
      prefix: BUCKET_PREFIXES.uploads,
    });
    this.confineNotificationsHandler();
  }

  /**
   * CDK's handler role gets AWSLambdaBasicExecutionRole, which may create and write any log group
   * in the account. Like our own functions, it gets instead a pre-created log group with
   * retention and write access to that group only; its other grant is CDK's own
   * s3:PutBucketNotification on this bucket.
   */
  private confineNotificationsHandler(): void {
    const handler = Stack.of(this).node.tryFindChild(NOTIFICATIONS_HANDLER_ID);
    const role = handler?.node.tryFindChild('Role');
    const fn = handler?.node.tryFindChild('Resource');
    if (!(role instanceof iam.Role) || !(fn instanceof CfnResource)) {
      // A CDK upgrade moved the handler: fail the synth rather than deploy the broad policy unnoticed.
      throw new Error(
        `CDK's bucket notifications handler (${NOTIFICATIONS_HANDLER_ID}) was not found where expected`,
      );
    }
    (role.node.defaultChild as iam.CfnRole).managedPolicyArns = undefined;
    const logGroup = new logs.LogGroup(this, 'NotificationsHandlerLogs', {
      retention: this.props.handlerLogRetentionDays as logs.RetentionDays,
      removalPolicy: this.props.removalPolicy,
    });
    logGroup.grantWrite(role);
    fn.addPropertyOverride('LoggingConfig', { LogGroup: logGroup.logGroupName });
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
