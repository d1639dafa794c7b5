// An image generation as stored in the sessions table (item GEN#<id> in the session's partition)
// and the pure rules of its life: which states follow which, and when a waiting or running
// generation is over without anyone saying so (unconfirmed too long, a job that never came back).
import type { ImageAspect, ImageAttempt, ImageQuality } from './types';

/**
 * awaiting_confirmation -> queued -> running -> ready | failed; awaiting_confirmation -> expired
 * (never confirmed) | cancelled; queued -> cancelled | failed (its job never started).
 */
export type GenerationStatus =
  | 'awaiting_confirmation'
  | 'queued'
  | 'running'
  | 'ready'
  | 'failed'
  | 'cancelled'
  | 'expired';

export const FINAL_STATUSES: ReadonlySet<GenerationStatus> = new Set([
  'ready',
  'failed',
  'cancelled',
  'expired',
]);

/** Who asked (where the request came from), for the tool's wording and the logs. */
export type GenerationOrigin = 'voice' | 'browser';

export interface GenerationOptions {
  quality: ImageQuality;
  aspect: ImageAspect;
  style?: string;
  /** A ready image of the session to edit. */
  editImageId?: string;
}

/** A catalog entry as the estimate showed it. */
export interface EntrySummary {
  entryId: string;
  provider: string;
  model: string;
  priceUsd: number;
}

/** Why a generation failed; stable codes the tool and the browser API show. */
export type GenerationFailure =
  | 'refused' // the provider's content policy (the user's answer, not an outage)
  | 'provider_failed' // every model tried failed
  | 'timeout' // the job ran out of time
  | 'malformed_image' // the provider's bytes are not an image we accept
  | 'no_model_within_estimate' // nothing usable now costs at most what was approved
  | 'edit_source_missing' // the image to edit is gone
  | 'session_gone' // the session was deleted or expired meanwhile
  | 'session_image_limit' // the session holds as many images as it may
  | 'job_not_started' // queued, but no job claimed it in time (or starting it failed)
  | 'job_lost' // a job claimed it and never finished (the function died)
  | 'internal_error';

export interface GenerationRecord {
  generationId: string;
  sessionId: string;
  status: GenerationStatus;
  origin: GenerationOrigin;
  /** Whose hourly count and daily cost cap it is charged to (see limits.ts). */
  requester: string;
  prompt: string;
  options: GenerationOptions;
  /** Price of the first candidate: what the user is asked to approve. */
  estimateUsd: number;
  /** The most the job may spend: the estimate once confirmed, the auto-approve amount if higher. */
  approvedUsd?: number;
  chosen: EntrySummary;
  alternatives: EntrySummary[];
  /** Set when ready: who made it and what it cost. */
  provider?: string;
  model?: string;
  costUsd?: number;
  attempts: ImageAttempt[];
  fallbackUsed?: boolean;
  imageId?: string;
  revisedPrompt?: string;
  error?: { code: GenerationFailure; message: string };
  createdAt: number;
  /** An unconfirmed generation expires at this time. */
  confirmBy: number;
  queuedAt?: number;
  startedAt?: number;
  finishedAt?: number;
  /** The job holding it (running), so only that job may finish it. */
  claimToken?: string;
  /** DynamoDB TTL, epoch seconds: the session's. */
  ttl: number;
}

/** How long a generation may sit in each non-final state before it is over (epoch ms deadlines). */
export interface GenerationDeadlines {
  /** A queued generation no job claimed within this is failed `job_not_started`. */
  queuedMs: number;
  /** A running generation not finished within this is failed `job_lost` (longer than the job's own timeout). */
  runningMs: number;
}

/**
 * Pure. The state a stored record is really in at `now`: an unconfirmed one past its deadline is
 * expired, a queued or running one whose job never came back is failed. Undefined when the record
 * stands as stored. The caller writes the change conditionally (the stored status unchanged).
 */
export function overdue(
  record: GenerationRecord,
  now: number,
  deadlines: GenerationDeadlines,
): Pick<GenerationRecord, 'status' | 'error'> | undefined {
  switch (record.status) {
    case 'awaiting_confirmation':
      return now >= record.confirmBy ? { status: 'expired' } : undefined;
    case 'queued':
      return now - (record.queuedAt ?? record.createdAt) >= deadlines.queuedMs
        ? {
            status: 'failed',
            error: { code: 'job_not_started', message: 'The generation was queued but never started.' },
          }
        : undefined;
    case 'running':
      return now - (record.startedAt ?? record.createdAt) >= deadlines.runningMs
        ? {
            status: 'failed',
            error: { code: 'job_lost', message: 'The generation started but its job never finished.' },
          }
        : undefined;
    default:
      return undefined;
  }
}

// ---- items ----

type Item = Record<string, unknown>;

const STATUSES: ReadonlySet<string> = new Set<GenerationStatus>([
  'awaiting_confirmation',
  'queued',
  'running',
  'ready',
  'failed',
  'cancelled',
  'expired',
]);
const QUALITIES: ReadonlySet<string> = new Set(['low', 'medium', 'high']);
const ASPECTS: ReadonlySet<string> = new Set(['square', 'landscape', 'portrait']);

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function summary(v: unknown): EntrySummary | undefined {
  const o = (v ?? {}) as Item;
  const entryId = str(o.entryId);
  const provider = str(o.provider);
  const model = str(o.model);
  const priceUsd = num(o.priceUsd);
  if (!entryId || !provider || !model || priceUsd === undefined) return undefined;
  return { entryId, provider, model, priceUsd };
}

function attempts(v: unknown): ImageAttempt[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((a: Item) => {
    const entryId = str(a?.entryId);
    const ms = num(a?.ms);
    if (!entryId || ms === undefined || typeof a.ok !== 'boolean') return [];
    const errorClass = str(a.errorClass);
    return [{ entryId, ok: a.ok, ms, ...(errorClass ? { errorClass } : {}) }];
  });
}

/** Reads a stored generation back; fields are checked, not cast (a malformed item is skipped). */
export function generationFromItem(item: Item): GenerationRecord | undefined {
  const generationId = str(item.generationId);
  const sessionId = str(item.sessionId);
  const status = str(item.status);
  const origin = str(item.origin);
  const requester = str(item.requester);
  const prompt = str(item.prompt);
  const estimateUsd = num(item.estimateUsd);
  const createdAt = num(item.createdAt);
  const confirmBy = num(item.confirmBy);
  const ttl = num(item.ttl);
  const chosen = summary(item.chosen);
  const opts = (item.options ?? {}) as Item;
  const quality = str(opts.quality);
  const aspect = str(opts.aspect);
  if (
    !generationId ||
    !sessionId ||
    !status ||
    !STATUSES.has(status) ||
    (origin !== 'voice' && origin !== 'browser') ||
    !requester ||
    prompt === undefined ||
    estimateUsd === undefined ||
    createdAt === undefined ||
    confirmBy === undefined ||
    ttl === undefined ||
    !chosen ||
    !quality ||
    !QUALITIES.has(quality) ||
    !aspect ||
    !ASPECTS.has(aspect)
  )
    return undefined;
  const options: GenerationOptions = {
    quality: quality as ImageQuality,
    aspect: aspect as ImageAspect,
    ...(str(opts.style) !== undefined ? { style: str(opts.style)! } : {}),
    ...(str(opts.editImageId) !== undefined ? { editImageId: str(opts.editImageId)! } : {}),
  };
  const errorItem = (item.error ?? undefined) as Item | undefined;
  const errorCode = str(errorItem?.code);
  const record: GenerationRecord = {
    generationId,
    sessionId,
    status: status as GenerationStatus,
    origin,
    requester,
    prompt,
    options,
    estimateUsd,
    chosen,
    alternatives: Array.isArray(item.alternatives)
      ? item.alternatives.map(summary).filter((s): s is EntrySummary => s !== undefined)
      : [],
    attempts: attempts(item.attempts),
    createdAt,
    confirmBy,
    ttl,
  };
  const optional: Partial<GenerationRecord> = {
    approvedUsd: num(item.approvedUsd),
    provider: str(item.provider),
    model: str(item.model),
    costUsd: num(item.costUsd),
    fallbackUsed: typeof item.fallbackUsed === 'boolean' ? item.fallbackUsed : undefined,
    imageId: str(item.imageId),
    revisedPrompt: str(item.revisedPrompt),
    error: errorCode
      ? { code: errorCode as GenerationFailure, message: str(errorItem?.message) ?? '' }
      : undefined,
    queuedAt: num(item.queuedAt),
    startedAt: num(item.startedAt),
    finishedAt: num(item.finishedAt),
    claimToken: str(item.claimToken),
  };
  for (const [k, v] of Object.entries(optional))
    if (v !== undefined) (record as unknown as Record<string, unknown>)[k] = v;
  return record;
}
