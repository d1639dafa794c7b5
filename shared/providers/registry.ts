// Builds one Provider per configured instance, once, at start.
import type { Config } from '../config';
import type { Logger } from '../observability/log';
import { createAnthropicProvider } from './anthropic';
import { createEchoProvider } from './echo';
import { createHttpTransport } from './http-transport';
import { createOpenAIProvider } from './openai';
import type { Provider } from './types';

export type Providers = ReadonlyMap<string, Provider>;

export function createProviders(config: Config, log?: Logger): Providers {
  const out = new Map<string, Provider>();
  // One transport (one keep-alive pool per protocol) for every provider instance.
  const fetch = config.upstreamHttp === 'node' ? createHttpTransport() : undefined;
  const common = {
    timeoutMs: config.upstreamTimeoutMs,
    ...(log ? { log } : {}),
    ...(fetch ? { fetch } : {}),
  };
  for (const p of config.providers.values()) {
    switch (p.kind) {
      case 'openai':
      case 'compatible':
        out.set(p.name, createOpenAIProvider(p, common));
        break;
      case 'anthropic':
        out.set(
          p.name,
          createAnthropicProvider(p, { ...common, defaultMaxTokens: config.anthropicDefaultMaxTokens }),
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
