// Limiter and budget instances on the embedded control table, with a test clock and log sink.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Emulators } from '../../../infra/local/emulators';
import type { ControlLog } from '../../../shared/limits/control-table';

export const CONTROL_TABLE = 'control';

export function documentClient(emu: Emulators, endpoint = emu.dynamoEndpoint): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint, region: emu.region, credentials: emu.credentials }),
  );
}

export function logSink(): { log: ControlLog; lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  return { log: (level, message) => lines.push({ level, message }), lines };
}

let seq = 0;
export function freshKey(label: string): string {
  seq += 1;
  return `${label}-${seq}-${Date.now()}`;
}
