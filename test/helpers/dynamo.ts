// A document client on the embedded DynamoDB, configured like the deployed functions' (one quick
// retry, undefined attributes dropped), with the emulator's keys. `endpoint` lets a test point
// it at a dead port instead.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Emulators } from '../../infra/local/emulators';

export function documentClient(
  emu: Pick<Emulators, 'region' | 'credentials' | 'dynamoEndpoint'>,
  endpoint = emu.dynamoEndpoint,
): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint, region: emu.region, credentials: emu.credentials, maxAttempts: 2 }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
}
