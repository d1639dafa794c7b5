// What the browser API's routes (sessions, uploads) are given: its configuration, the session
// store and bucket, the guard, ElevenLabs. Built by each browser function's composition root
// (functions/host/browser-api.ts); here only as types, so shared/ never imports the wiring.

import type { S3Client } from '@aws-sdk/client-s3';
import type { BrowserGuard } from '../auth/browser-guard';
import type { ElevenLabsClient } from '../elevenlabs/client';
import type { SafeFetchOptions } from '../images/safe-fetch';
import type { SessionBudget } from '../limits/budget';
import type { Logger } from '../observability/log';
import type { ImageObjects } from '../sessions/image-objects';
import type { SessionStore } from '../sessions/store';
import type { StorageFaultBoundary } from '../storage/fault-boundary';
import type { BrowserApiConfig } from './config';

/** How image URLs are fetched; tests widen the address policy to a loopback image server. */
export type UrlFetchSettings = Pick<SafeFetchOptions, 'allowHttp' | 'addressPolicy' | 'lookup'> & {
  timeoutMs: number;
};

export interface ElevenLabsAccess {
  client: ElevenLabsClient;
  agentId: string;
}

export interface BrowserApiDeps {
  config: BrowserApiConfig;
  store: SessionStore;
  objects: ImageObjects;
  /** For presigning upload forms. */
  s3: S3Client;
  guard: BrowserGuard;
  /** The session's token and cost totals the chat function adds after each turn (read-only here). */
  budget: SessionBudget;
  /** Absent when ELEVENLABS_API_KEY or ELEVENLABS_AGENT_ID is not configured. */
  elevenLabs?: ElevenLabsAccess;
  urlFetch: UrlFetchSettings;
  /** Turns storage outages into 503 storage_unavailable, logged once per incident. */
  storageFaults: StorageFaultBoundary;
  log: Logger;
  now: () => number;
}
