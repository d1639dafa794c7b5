// What both doors (the chat tool and the browser API) do with a generation: ask (moderate, estimate
// from the generator's candidates, and either queue at once under the auto-approve amount or wait
// for a confirmation), confirm (at most once: limits charged, then one conditional write), cancel,
// read. Queuing starts the job through `startJob`: in-process locally, a Lambda invocation on AWS.
import type { Logger } from '../observability/log';
import { imageNotFound, invalidImageId } from '../sessions/errors';
import { isGenerationId, isImageId, newGenerationId } from '../sessions/ids';
import type { ImageObjects } from '../sessions/image-objects';
import type { SessionStore } from '../sessions/store';
import { isReadyImage, type SessionRecord } from '../sessions/types';
import type { ImageGenConfig } from './config';
import {
  editSourceNotReady,
  generationConflict,
  generationDisabled,
  generationExpired,
  generationNotFound,
  invalidGenerationId,
  noImageModel,
  sessionGenerationLimit,
} from './errors';
import type { GenerationJob } from './job';
import type { ChargeGeneration } from './limits';
import type { ModeratePrompt } from './moderation';
import type { EntrySummary, GenerationOptions, GenerationOrigin, GenerationRecord } from './records';
import type { GenerationStore } from './store';
import type { CatalogEntry, ImageGenerator, ImageRequest } from './types';

/** Starts the job of a queued generation; resolves once it is handed over (not when it is done). */
export type StartJob = (job: GenerationJob) => Promise<void>;

export interface GenerationServiceDeps {
  config: ImageGenConfig;
  generations: GenerationStore;
  sessions: Pick<SessionStore, 'getImage'>;
  objects: Pick<ImageObjects, 'read'>;
  generator: ImageGenerator;
  moderate: ModeratePrompt;
  charge: ChargeGeneration;
  /** Throws 429 session_budget_exceeded when the session's budget is spent (shared/limits/budget.ts). */
  checkSessionBudget?: (sessionId: string) => Promise<void>;
  startJob: StartJob;
  /** Largest image read as an edit source. */
  maxSourceBytes: number;
  log: Logger;
  now?: () => number;
}

export interface GenerationAsk {
  session: SessionRecord;
  prompt: string;
  options: GenerationOptions;
  origin: GenerationOrigin;
  requester: string;
}

/** How many alternatives an estimate lists besides the chosen model. */
const MAX_ALTERNATIVES = 3;

const summarize = (e: CatalogEntry): EntrySummary => ({
  entryId: e.id,
  provider: e.provider,
  model: e.model,
  priceUsd: e.priceUsd,
});

export class GenerationService {
  private readonly now: () => number;

  constructor(private readonly deps: GenerationServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  get config(): ImageGenConfig {
    return this.deps.config;
  }

  /** Asks for an image: the record, queued when its estimate is within the auto-approve amount, else awaiting confirmation. */
  async ask(ask: GenerationAsk): Promise<GenerationRecord> {
    const { config, generations, log } = this.deps;
    if (!config.enabled) throw generationDisabled();
    const { sessionId } = ask.session;
    const request = await this.imageRequest(ask);
    await this.deps.moderate(ask.prompt);
    await this.deps.checkSessionBudget?.(sessionId);
    const candidates = (await this.deps.generator.candidates(request)).filter(
      (e) => !request.source || e.edits,
    );
    const chosen = candidates[0];
    if (!chosen) throw noImageModel(request.source !== undefined);
    const now = this.now();
    const autoApproved = chosen.priceUsd <= config.autoApproveUsd;
    const record: GenerationRecord = {
      generationId: newGenerationId(),
      sessionId,
      status: 'awaiting_confirmation',
      origin: ask.origin,
      requester: ask.requester,
      prompt: ask.prompt,
      options: ask.options,
      estimateUsd: chosen.priceUsd,
      chosen: summarize(chosen),
      alternatives: candidates.slice(1, 1 + MAX_ALTERNATIVES).map(summarize),
      attempts: [],
      createdAt: now,
      confirmBy: now + config.confirmTtlSeconds * 1000,
      ttl: ask.session.ttl,
    };
    if (!autoApproved) {
      await generations.create(record);
      log.info('generation awaiting confirmation', this.logFields(record));
      return record;
    }
    await this.reserve(record);
    // Under the auto-approve amount any fallback up to that amount is approved too.
    const queued: GenerationRecord = {
      ...record,
      status: 'queued',
      queuedAt: now,
      approvedUsd: Math.max(record.estimateUsd, config.autoApproveUsd),
    };
    await generations.create(queued);
    return this.start(queued);
  }

  /**
   * Confirms the estimate. Idempotent: a generation already queued, running or ready is answered
   * as it is, and its limits are not charged again; the conditional write queues it once.
   */
  async confirm(sessionId: string, generationId: string): Promise<GenerationRecord> {
    const current = await this.read(sessionId, generationId);
    switch (current.status) {
      case 'queued':
      case 'running':
      case 'ready':
        return current;
      case 'expired':
        throw generationExpired();
      case 'failed':
      case 'cancelled':
        throw generationConflict(current.status, 'confirmed');
      case 'awaiting_confirmation':
        break;
    }
    await this.deps.checkSessionBudget?.(sessionId);
    await this.reserve(current);
    const outcome = await this.deps.generations.confirm(sessionId, generationId, current.estimateUsd);
    if (outcome.kind === 'missing') throw generationNotFound();
    if (outcome.kind === 'unchanged') {
      // Another confirmation won the race (it starts the job), or the deadline passed meanwhile.
      const now = await this.deps.generations.settle(outcome.record);
      if (now.status === 'expired') throw generationExpired();
      if (now.status === 'failed' || now.status === 'cancelled')
        throw generationConflict(now.status, 'confirmed');
      return now;
    }
    return this.start(outcome.record);
  }

  async cancel(sessionId: string, generationId: string): Promise<GenerationRecord> {
    await this.read(sessionId, generationId);
    const outcome = await this.deps.generations.cancel(sessionId, generationId);
    if (outcome.kind === 'missing') throw generationNotFound();
    if (outcome.kind === 'unchanged') {
      if (outcome.record.status === 'cancelled') return outcome.record;
      throw generationConflict(outcome.record.status, 'cancelled');
    }
    this.deps.log.info('generation cancelled', { sessionId, generationId });
    return outcome.record;
  }

  async get(sessionId: string, generationId: string): Promise<GenerationRecord> {
    return this.read(sessionId, generationId);
  }

  async list(sessionId: string): Promise<GenerationRecord[]> {
    return this.deps.generations.list(sessionId);
  }

  private async read(sessionId: string, generationId: string): Promise<GenerationRecord> {
    if (!this.deps.config.enabled) throw generationDisabled();
    if (!isGenerationId(generationId)) throw invalidGenerationId();
    const record = await this.deps.generations.get(sessionId, generationId);
    if (!record) throw generationNotFound();
    return record;
  }

  /** Charges the session's count and the requester's hourly count and daily dollars; 429 when over. */
  private async reserve(record: GenerationRecord): Promise<void> {
    if (!(await this.deps.generations.reserveSessionSlot(record.sessionId, this.deps.config.perSession)))
      throw sessionGenerationLimit(this.deps.config.perSession);
    await this.deps.charge(record.requester, record.estimateUsd);
  }

  /** Hands a queued generation to its job; one that cannot be started is failed at once, with the reason. */
  private async start(record: GenerationRecord): Promise<GenerationRecord> {
    const job = { sessionId: record.sessionId, generationId: record.generationId };
    try {
      await this.deps.startJob(job);
      this.deps.log.info('generation queued', this.logFields(record));
      return record;
    } catch (err) {
      this.deps.log.error('could not start a generation job', { ...job, error: err });
      const failed = await this.deps.generations.fail(record.sessionId, record.generationId, {
        code: 'job_not_started',
        message: 'The generation could not be started.',
      });
      return failed.kind === 'missing' ? record : failed.record;
    }
  }

  private async imageRequest(ask: GenerationAsk): Promise<Pick<ImageRequest, 'quality' | 'source'>> {
    const { editImageId, quality } = ask.options;
    if (editImageId === undefined) return { quality };
    if (!isImageId(editImageId)) throw invalidImageId();
    const image = await this.deps.sessions.getImage(ask.session.sessionId, editImageId);
    if (!image || image.status === 'duplicate') throw imageNotFound();
    if (!isReadyImage(image)) throw editSourceNotReady();
    // Read now: the candidates depend on whether there is a source, and a source that cannot
    // be read is better refused before anything is estimated.
    const read = await this.deps.objects.read(image.key, this.deps.maxSourceBytes);
    if (read.kind !== 'bytes') throw imageNotFound();
    return { quality, source: { bytes: read.bytes, mimeType: image.mime } };
  }

  /** Ids, states and money; the prompt only at debug level. */
  private logFields(record: GenerationRecord): Record<string, unknown> {
    return {
      sessionId: record.sessionId,
      generationId: record.generationId,
      origin: record.origin,
      status: record.status,
      estimateUsd: record.estimateUsd,
      entryId: record.chosen.entryId,
      ...(this.deps.config.logPrompts ? { prompt: record.prompt } : {}),
    };
  }
}
