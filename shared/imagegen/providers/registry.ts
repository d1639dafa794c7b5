// Builds one ImageProvider per configured instance, once, at start (like the chat registry).
import type { Logger } from '../../observability/log';
import type { FetchLike } from '../../providers/http-transport';
import type { ImageProviderConfig } from '../provider-config';
import type { ImageProvider } from '../types';
import { createEchoImageProvider } from './echo';
import { createOpenAIImagesProvider } from './openai-images';
import { createReplicateProvider, type ReplicateOptions } from './replicate';

export type ImageProviders = ReadonlyMap<string, ImageProvider>;

export interface ImageProviderOptions {
  /** Upper bound on one upstream HTTP request (the runner's per-attempt timeout is the real bound). */
  timeoutMs: number;
  log?: Logger;
  /** The shared keep-alive transport (shared/providers/http-transport.ts); the runtime's fetch when absent. */
  fetch?: FetchLike;
  replicate?: Omit<ReplicateOptions, 'fetch'>;
}

export function createImageProviders(
  configs: ReadonlyMap<string, ImageProviderConfig>,
  opts: ImageProviderOptions,
): ImageProviders {
  const out = new Map<string, ImageProvider>();
  const sdk = {
    timeoutMs: opts.timeoutMs,
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  };
  for (const cfg of configs.values()) {
    switch (cfg.kind) {
      case 'openai':
      case 'google':
      case 'together':
      case 'compatible':
        out.set(cfg.name, createOpenAIImagesProvider(cfg, sdk));
        break;
      case 'replicate':
        out.set(
          cfg.name,
          createReplicateProvider(cfg, { ...opts.replicate, ...(opts.fetch ? { fetch: opts.fetch } : {}) }),
        );
        break;
      case 'echo':
        out.set(cfg.name, createEchoImageProvider(cfg));
        break;
      default: {
        const never: never = cfg.kind;
        throw new Error(`unknown image provider kind ${String(never)}`);
      }
    }
  }
  return out;
}
