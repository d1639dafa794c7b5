import type { ControlLog } from '../../../shared/limits/control-table';

export const CONTROL_TABLE = 'control';

export { documentClient } from '../../helpers/dynamo';

export function logSink(): { log: ControlLog; lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  return { log: (level, message) => lines.push({ level, message }), lines };
}

let seq = 0;
export function freshKey(label: string): string {
  seq += 1;
  return `${label}-${seq}-${Date.now()}`;
}
