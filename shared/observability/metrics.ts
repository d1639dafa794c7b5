// CloudWatch metrics in Embedded Metric Format: one JSON log line per turn that CloudWatch turns
// into metrics, with no API call on the hot path (hand-rolled: the format is a few fields, and
// the chat bundle's cold start matters more than a dependency).
import { TURN_SUPERSEDED } from '../chat/turn-abort';
import type { TurnRecord } from '../chat/turn-record';

export const METRICS_NAMESPACE = 'ElevenLabsVision';

export function turnMetricsEmf(record: TurnRecord, stage: string, now = Date.now()): Record<string, unknown> {
  const fallbacks =
    new Set(record.attempts.filter((a) => a.outcome !== 'skipped_open').map((a) => a.target)).size - 1;
  const retries = record.attempts.filter((a) => a.retry > 0).length;
  const metrics: { Name: string; Unit: string }[] = [
    { Name: 'Turns', Unit: 'Count' },
    { Name: 'TurnErrors', Unit: 'Count' },
    { Name: 'ClientAborts', Unit: 'Count' },
    { Name: 'SupersededTurns', Unit: 'Count' },
    { Name: 'TotalMs', Unit: 'Milliseconds' },
    { Name: 'Fallbacks', Unit: 'Count' },
    { Name: 'Retries', Unit: 'Count' },
    { Name: 'Images', Unit: 'Count' },
  ];
  const values: Record<string, number> = {
    Turns: 1,
    // A client that hangs up, or a turn stopped by a newer turn of its conversation (both are a
    // voice barge-in), is routine, not an error of ours.
    TurnErrors: record.error && record.status !== 499 && record.error !== TURN_SUPERSEDED ? 1 : 0,
    ClientAborts: record.status === 499 ? 1 : 0,
    SupersededTurns: record.error === TURN_SUPERSEDED ? 1 : 0,
    TotalMs: record.totalMs,
    Fallbacks: Math.max(0, fallbacks),
    Retries: retries,
    Images: record.imageCount,
  };
  if (record.contextMs !== undefined) {
    metrics.push({ Name: 'ContextMs', Unit: 'Milliseconds' });
    values.ContextMs = record.contextMs;
  }
  if (record.ttftMs !== undefined) {
    metrics.push({ Name: 'TimeToFirstTokenMs', Unit: 'Milliseconds' });
    values.TimeToFirstTokenMs = record.ttftMs;
  }
  if (record.usage) {
    metrics.push({ Name: 'TokensIn', Unit: 'Count' }, { Name: 'TokensOut', Unit: 'Count' });
    values.TokensIn = record.usage.prompt_tokens;
    values.TokensOut = record.usage.completion_tokens;
  }
  return {
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        { Namespace: METRICS_NAMESPACE, Dimensions: [['Stage', 'Provider']], Metrics: metrics },
      ],
    },
    Stage: stage,
    Provider: record.provider ?? 'none',
    ...values,
  };
}
