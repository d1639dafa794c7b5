// Builds breakers the way separate Lambda containers would: each with its own SDK client and
// cache, all on one control table in the embedded DynamoDB, all reading one test clock.
import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Emulators } from '../../../infra/local/emulators';
import type { ControlLog } from '../../../shared/limits/control-table';
import { CircuitBreaker } from '../../../shared/routing/breaker';
import type { BreakerSettings } from '../../../shared/routing/breaker-settings';
import { documentClient } from '../../helpers/dynamo';

export const CONTROL_TABLE = 'control';

export interface LogLine {
  level: string;
  message: string;
  fields: Record<string, unknown> | undefined;
}

export class TestClock {
  constructor(public ms: number) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** Counts what each container sends to DynamoDB, by kind. */
export class SendCounter {
  reads = 0;
  writes = 0;
  get total(): number {
    return this.reads + this.writes;
  }
  reset(): void {
    this.reads = 0;
    this.writes = 0;
  }
}

/** Wraps `send` with a counter; the thin wrapper the read-count assertions rely on. */
export function countSends(doc: DynamoDBDocumentClient): SendCounter {
  const counter = new SendCounter();
  const original = doc.send.bind(doc) as (...args: unknown[]) => Promise<unknown>;
  const counting = (...args: unknown[]): Promise<unknown> => {
    const command = args[0];
    if (command instanceof GetCommand || command instanceof QueryCommand) counter.reads += 1;
    else counter.writes += 1;
    return original(...args);
  };
  Object.assign(doc, { send: counting });
  return counter;
}

export interface Container {
  breaker: CircuitBreaker;
  sends: SendCounter;
  logs: LogLine[];
  doc: DynamoDBDocumentClient;
}

export function container(
  emu: Emulators,
  clock: TestClock,
  settings: Partial<BreakerSettings> = {},
  endpoint = emu.dynamoEndpoint,
): Container {
  const doc = documentClient(emu, endpoint);
  const sends = countSends(doc);
  const logs: LogLine[] = [];
  const log: ControlLog = (level, message, fields) => logs.push({ level, message, fields });
  const breaker = new CircuitBreaker({
    client: doc,
    tableName: CONTROL_TABLE,
    settings,
    now: clock.now,
    log,
  });
  return { breaker, sends, logs, doc };
}

let targetSeq = 0;
/** A target id no other test touches, so tests share one table without sharing state. */
export function freshTarget(label: string): string {
  targetSeq += 1;
  return `test:${label}-${targetSeq}-${Date.now()}`;
}
