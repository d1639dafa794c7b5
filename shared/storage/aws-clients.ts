// The one place the AWS SDK clients are built (DynamoDB, S3, Secrets Manager), for every
// function, with one retry and timeout policy, so an outage answers within a bounded time
// instead of hanging until the function times out. The SDKs load on first use: a chat function
// without tables never loads them.

import type { S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Where the clients go: the region, and the local emulators' endpoints (unset on AWS). */
export interface AwsTarget {
  region?: string | undefined;
  dynamoEndpoint?: string | undefined;
  s3Endpoint?: string | undefined;
}

/**
 * Per call: two attempts (one quick retry for a blip), each allowed 1 s to connect (same-region
 * endpoints connect in milliseconds) and 5 s until the response headers. Worst case per call:
 * 2 x (1 s + 5 s) plus the SDK's retry back-off (under 1 s), inside the sessions function's 15 s;
 * an endpoint that accepts and never answers gives up after 10 s, a refused connection (the
 * usual shape of an outage) in milliseconds. The chat function's breaker, budget and live-turn
 * calls are advisory and bounded by their own shorter deadlines on top of this.
 */
export const AWS_CLIENT_SETTINGS = {
  maxAttempts: 2,
  requestHandler: {
    connectionTimeout: 1_000,
    requestTimeout: 5_000,
    // Without it the SDK only warns when requestTimeout passes and keeps waiting.
    throwOnRequestTimeout: true,
  },
} as const;

const regionOf = (target: AwsTarget) => (target.region ? { region: target.region } : {});

export async function createDocumentClient(target: AwsTarget): Promise<DynamoDBDocumentClient> {
  const [{ DynamoDBClient }, { DynamoDBDocumentClient }] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('@aws-sdk/lib-dynamodb'),
  ]);
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({
      ...regionOf(target),
      ...AWS_CLIENT_SETTINGS,
      ...(target.dynamoEndpoint ? { endpoint: target.dynamoEndpoint } : {}),
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
}

export async function createS3Client(target: AwsTarget): Promise<S3Client> {
  const { S3Client } = await import('@aws-sdk/client-s3');
  return new S3Client({
    ...regionOf(target),
    ...AWS_CLIENT_SETTINGS,
    ...(target.s3Endpoint
      ? {
          endpoint: target.s3Endpoint,
          // The emulator has no virtual-host buckets and no flexible checksums.
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
  });
}

/** Secrets Manager in the function's own region (secrets are never read from emulators). */
export async function createSecretsManagerClient(): Promise<SecretsManagerClient> {
  const { SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  return new SecretsManagerClient({ ...AWS_CLIENT_SETTINGS });
}
