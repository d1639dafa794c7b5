// What every turn leaves behind for accounting (logs, metrics and per-session totals), and the one
// function that builds it from what the turn core learned along the way.
import type { Usage } from '../providers/types';
import type { AttemptRecord } from '../routing/fallback';

export interface TurnRecord {
  requestId: string;
  /** The model name the client asked for, and the route that answered it. */
  requestedModel: string;
  route: string;
  provider?: string;
  model?: string;
  /** Every try in order: retries, fallbacks, hedges, skipped open breakers. */
  attempts: AttemptRecord[];
  stream: boolean;
  sessionId?: string;
  imageCount: number;
  /** Milliseconds spent resolving the session and placing its images (and message images). */
  contextMs?: number;
  /** Milliseconds from the request to the first upstream event. */
  ttftMs?: number;
  totalMs: number;
  usage?: Usage;
  /** The turn was cut short and the upstream had not reported usage: `usage` is an estimate. */
  usageEstimated?: true;
  finishReason?: string;
  /** Error class when the turn failed (before or after the first byte). */
  error?: string;
  status: number;
}

/**
 * What the turn core knows about a turn so far; each step fills in its part. Nothing reads it
 * but `turnRecord`, so a record is never half-written: it exists once, when the turn ends.
 */
export interface TurnFacts {
  requestId: string;
  /** `now()` when the request arrived. */
  startedAt: number;
  requestedModel: string;
  route: string;
  stream: boolean;
  sessionId?: string;
  imageCount: number;
  contextMs?: number;
  /** The upstream that answered (the last one, when a turn spans several upstream calls). */
  upstream?: { provider: string; model: string };
  attempts: AttemptRecord[];
  ttftMs?: number;
  usage?: Usage;
  usageEstimated?: boolean;
  finishReason?: string;
}

export function newTurnFacts(requestId: string, startedAt: number): TurnFacts {
  return { requestId, startedAt, requestedModel: '', route: '', stream: false, imageCount: 0, attempts: [] };
}

/** The record of a turn that ended at `endedAt` with `status` (and `error`, its class or code). */
export function turnRecord(facts: TurnFacts, status: number, endedAt: number, error?: string): TurnRecord {
  const record: TurnRecord = {
    requestId: facts.requestId,
    requestedModel: facts.requestedModel,
    route: facts.route,
    attempts: facts.attempts,
    stream: facts.stream,
    imageCount: facts.imageCount,
    totalMs: endedAt - facts.startedAt,
    status,
  };
  if (facts.upstream) {
    record.provider = facts.upstream.provider;
    record.model = facts.upstream.model;
  }
  if (facts.sessionId !== undefined) record.sessionId = facts.sessionId;
  if (facts.contextMs !== undefined) record.contextMs = facts.contextMs;
  if (facts.ttftMs !== undefined) record.ttftMs = facts.ttftMs;
  if (facts.usage) record.usage = facts.usage;
  if (facts.usageEstimated) record.usageEstimated = true;
  if (facts.finishReason !== undefined) record.finishReason = facts.finishReason;
  if (error) record.error = error;
  return record;
}
