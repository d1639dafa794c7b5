// Builds one Provider per configured instance, once, at start.
import type { Config } from '../config';
import type { Logger } from '../observability/log';
import { createAnthropicProvider } from './anthropic';
import { createEchoProvider } from './echo';
import { createOpenAIProvider } from './openai';
import type { Provider } from './types';

export type Providers = ReadonlyMap<string, Provider>;

export function createProviders(config: Config, log?: Logger): Providers {
  const out = new Map<string, Provider>();
  for (const p of config.providers.values()) {
    switch (p.kind) {
      case 'openai':
      case 'compatible':
        out.set(
          p.name,
          createOpenAIProvider(p, { timeoutMs: config.upstreamTimeoutMs, ...(log ? { log } : {}) }),
        );
        break;
      case 'anthropic':
        out.set(
          p.name,
          createAnthropicProvider(p, {
            defaultMaxTokens: config.anthropicDefaultMaxTokens,
            timeoutMs: config.upstreamTimeoutMs,
            ...(log ? { log } : {}),
          }),
        );
        break;
      case 'echo':
        out.set(p.name, createEchoProvider(p));
        break;
      default: {
        const never: never = p.kind;
        throw new Error(`unknown provider kind ${String(never)}`);
      }
    }
  }
  return out;
}
