// What callers are shown of a generation: states, models, money, and the image when ready.
// Never S3 keys, the requester key or the claim token; the prompt is the caller's own words.
import type { EntrySummary, GenerationRecord } from './records';

export interface PublicGeneration {
  generationId: string;
  status: GenerationRecord['status'];
  prompt: string;
  quality: string;
  aspect: string;
  style: string | null;
  editImageId: string | null;
  estimateUsd: number;
  /** The model the estimate is for, and the others usable now. */
  chosen: EntrySummary;
  alternatives: EntrySummary[];
  /** While awaiting confirmation: when it expires. */
  confirmBy: string | null;
  provider: string | null;
  model: string | null;
  costUsd: number | null;
  fallbackUsed: boolean | null;
  attempts: number;
  imageId: string | null;
  /** When ready and asked for: a presigned URL of the provider's original image (1 hour). */
  imageUrl?: string;
  error: { code: string; message: string } | null;
  createdAt: string;
  finishedAt: string | null;
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

export function publicGeneration(record: GenerationRecord, imageUrl?: string): PublicGeneration {
  return {
    generationId: record.generationId,
    status: record.status,
    prompt: record.prompt,
    quality: record.options.quality,
    aspect: record.options.aspect,
    style: record.options.style ?? null,
    editImageId: record.options.editImageId ?? null,
    estimateUsd: record.estimateUsd,
    chosen: record.chosen,
    alternatives: record.alternatives,
    confirmBy: record.status === 'awaiting_confirmation' ? iso(record.confirmBy) : null,
    provider: record.provider ?? null,
    model: record.model ?? null,
    costUsd: record.costUsd ?? null,
    fallbackUsed: record.fallbackUsed ?? null,
    attempts: record.attempts.length,
    imageId: record.imageId ?? null,
    ...(imageUrl !== undefined ? { imageUrl } : {}),
    error: record.error ?? null,
    createdAt: iso(record.createdAt)!,
    finishedAt: iso(record.finishedAt),
  };
}
