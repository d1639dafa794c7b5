// Embedded DynamoDB (dynalite) and S3 (s3rver) on loopback, for `make dev` and the tests.
// The real AWS SDK clients reach them through an endpoint setting; no AWS account needed.
// Each sits behind a public port that can be switched off and on (outage tests), and S3's
// enforces POST upload policies, the raw-upload lifecycle rule and sends the bucket's event
// notifications for form uploads, all of which s3rver lacks.
import { mkdirSync } from 'node:fs';
import { type AddressInfo, connect, createServer as createTcpServer } from 'node:net';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { TABLE_KEYS } from '../../shared/storage/schema';
import { EndpointSwitch } from './endpoint-switch';
import { createS3Front } from './s3-front';
import { S3Notifications } from './s3-notifications';
import { sweepExpiredUploads } from './upload-lifecycle';

export type EmulatorName = 'dynamodb' | 's3';

export interface Emulators {
  dynamoEndpoint: string;
  s3Endpoint: string;
  region: string;
  /** Static credentials the emulators accept (they check nothing). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /**
   * An outage: the endpoint(s) refuse connections and open ones are reset, as if the process
   * had been killed. Data is kept; `restart` serves it again on the same port. Default: both.
   */
  stop(which?: EmulatorName): Promise<void>;
  restart(which?: EmulatorName): Promise<void>;
  /**
   * Deletes the raw uploads (every bucket's uploads/) that the bucket lifecycle rule would have
   * expired by `now`, as S3 does on its own; returns the deleted keys.
   */
  sweepUploads(now?: number): Promise<string[]>;
  /**
   * The buckets' event notifications: a stored form upload (ObjectCreated:Post) is sent to each
   * subscription whose prefix matches its key. Closing waits for deliveries in flight.
   */
  notifications: Pick<S3Notifications, 'subscribe' | 'settled'>;
  close(): Promise<void>;
}

export interface EmulatorOptions {
  /** Where dynalite and s3rver keep data; omit for in-memory DynamoDB and a temp S3 folder. */
  dataDir?: string;
  dynamoPort?: number;
  s3Port?: number;
  tables: string[];
  buckets: string[];
  /**
   * Browser origins the buckets answer cross-origin (CORS), like the deployed bucket: presigned
   * POST uploads, plus GET. Each start replaces the buckets' CORS configuration; left as is when empty.
   */
  corsOrigins?: readonly string[];
}

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

const xmlText = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The bucket CORS document s3rver applies (the S3 PutBucketCors XML), mirroring the deployed
 * bucket's rule (infra/constructs/storage.ts) with GET added for local tools.
 */
export function bucketCorsXml(origins: readonly string[]): string {
  const tag = (name: string, values: readonly string[]) =>
    values.map((v) => `<${name}>${xmlText(v)}</${name}>`).join('');
  return (
    '<CORSConfiguration><CORSRule>' +
    tag('AllowedOrigin', origins) +
    tag('AllowedMethod', ['GET', 'POST']) +
    tag('AllowedHeader', ['*']) +
    tag('ExposeHeader', ['ETag', 'Location']) +
    '<MaxAgeSeconds>3600</MaxAgeSeconds></CORSRule></CORSConfiguration>'
  );
}

/** Creates tables with the product's key layout (pk/sk strings); existing ones are kept. */
export async function createTables(
  at: Pick<Emulators, 'dynamoEndpoint' | 'region' | 'credentials'>,
  tables: readonly string[],
): Promise<void> {
  const ddb = new DynamoDBClient({
    endpoint: at.dynamoEndpoint,
    region: at.region,
    credentials: at.credentials,
  });
  try {
    for (const table of tables) {
      try {
        await ddb.send(
          new CreateTableCommand({
            TableName: table,
            BillingMode: 'PAY_PER_REQUEST',
            AttributeDefinitions: [
              { AttributeName: TABLE_KEYS.partitionKey, AttributeType: 'S' },
              { AttributeName: TABLE_KEYS.sortKey, AttributeType: 'S' },
            ],
            KeySchema: [
              { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
              { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
            ],
          }),
        );
      } catch (err) {
        if (!(err instanceof ResourceInUseException)) throw err;
      }
    }
  } finally {
    ddb.destroy();
  }
}

export async function startEmulators(opts: EmulatorOptions): Promise<Emulators> {
  // Both are CommonJS packages without types; loaded lazily so production bundles never see them.
  const { default: dynalite } = await import('dynalite');
  const { default: S3rver } = await import('s3rver');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');

  let dynamoPath: string | undefined;
  let s3Dir: string;
  if (opts.dataDir) {
    dynamoPath = join(opts.dataDir, 'dynamodb');
    s3Dir = join(opts.dataDir, 's3');
    mkdirSync(dynamoPath, { recursive: true });
    mkdirSync(s3Dir, { recursive: true });
  } else {
    s3Dir = mkdtempSync(join(tmpdir(), 's3rver-'));
  }

  const dynamo = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(dynamoPath ? { path: dynamoPath } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    dynamo.once('error', reject);
    dynamo.listen(0, '127.0.0.1', () => resolve());
  });
  const dynamoInternalPort = (dynamo.address() as AddressInfo).port;
  // DynamoDB's public port is a plain TCP relay: it exists only to be switched off and on.
  const dynamoSwitch = new EndpointSwitch(
    createTcpServer((client) => {
      const upstream = connect(dynamoInternalPort, '127.0.0.1');
      client.pipe(upstream).pipe(client);
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    }),
  );
  const dynamoEndpoint = `http://127.0.0.1:${await dynamoSwitch.listen(opts.dynamoPort ?? 0)}`;

  const s3 = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: s3Dir,
    allowMismatchedSignatures: true,
    vhostBuckets: false,
    // A browser page on another port uploads straight to the emulator: a cross-origin POST.
    ...(opts.corsOrigins && opts.corsOrigins.length > 0
      ? {
          configureBuckets: opts.buckets.map((name) => ({
            name,
            configs: [bucketCorsXml(opts.corsOrigins!)],
          })),
        }
      : {}),
  });
  const s3Internal = await s3.run();
  const notifications = new S3Notifications(REGION);
  const s3Switch = new EndpointSwitch(
    createS3Front({
      targetPort: s3Internal.port,
      buckets: opts.buckets,
      corsOrigins: opts.corsOrigins ?? [],
      onObjectCreated: (created) => notifications.publish(created),
    }),
  );
  const s3Endpoint = `http://127.0.0.1:${await s3Switch.listen(opts.s3Port ?? 0)}`;

  await createTables({ dynamoEndpoint, region: REGION, credentials: CREDENTIALS }, opts.tables);

  // Buckets and the lifecycle sweep are S3's own business: they go straight to s3rver, so a
  // switched-off endpoint does not stop them.
  const s3c = new S3Client({
    endpoint: `http://127.0.0.1:${s3Internal.port}`,
    region: REGION,
    credentials: CREDENTIALS,
    forcePathStyle: true,
  });
  for (const bucket of opts.buckets) {
    try {
      await s3c.send(new CreateBucketCommand({ Bucket: bucket }));
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
    }
  }

  const switches = (which: EmulatorName | undefined) =>
    which === 'dynamodb' ? [dynamoSwitch] : which === 's3' ? [s3Switch] : [dynamoSwitch, s3Switch];
  return {
    dynamoEndpoint,
    s3Endpoint,
    region: REGION,
    credentials: CREDENTIALS,
    async stop(which) {
      await Promise.all(switches(which).map((s) => s.off()));
    },
    async restart(which) {
      await Promise.all(switches(which).map((s) => s.on()));
    },
    async sweepUploads(now = Date.now()) {
      const swept: string[] = [];
      for (const bucket of opts.buckets) swept.push(...(await sweepExpiredUploads(s3c, bucket, now)));
      return swept;
    },
    notifications,
    async close() {
      // A delivery still running would meet closed emulators.
      await notifications.settled();
      s3c.destroy();
      await Promise.all([dynamoSwitch.off(), s3Switch.off()]);
      await s3.close();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    },
  };
}
