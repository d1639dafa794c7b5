// What every turn leaves behind for accounting: logs, metrics and per-session totals.
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
