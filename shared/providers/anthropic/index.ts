// The Anthropic provider: translates the chat request, streams the Messages API through the
// official SDK, and reports every failure as an UpstreamError.
import type Anthropic from '@anthropic-ai/sdk';
import { isProviderConfigured, type ProviderConfig } from '../../config';
import { UpstreamError } from '../../errors';
import { silentLogger } from '../../observability/log';
import { callSettings, DroppedSettings, samplingSettings } from '../call-settings';
import { type SdkProviderOptions, sdkClientOptions } from '../sdk-logger';
import type { Provider, StreamEvent, TargetCall } from '../types';
import { sendUpstreamRequest } from '../upstream-error';
import { toAnthropicRequest } from './request';
import { anthropicStreamToEvents } from './stream';
import { toAnthropicUpstreamError } from './upstream-errors';

export interface AnthropicProviderOptions extends SdkProviderOptions {
  /** max_tokens when neither the client nor the route sets one (Anthropic requires it). */
  defaultMaxTokens: number;
}

export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';

export function createAnthropicProvider(cfg: ProviderConfig, opts: AnthropicProviderOptions): Provider {
  // Everything comes from our validated config, so the SDK must not fall back to reading
  // ANTHROPIC_* variables itself; without a key it would even search config files for
  // credentials, so a keyless provider gets no client at all. Retries and failover belong
  // to the routing layer. The SDK is loaded on first use (or by warm()) so bundles whose routes
  // never reach Anthropic do not pay for evaluating it at cold start.
  const apiKey = cfg.apiKey;
  const dropped = new DroppedSettings(opts.log ?? silentLogger, cfg.name);
  let client: Promise<Anthropic> | undefined;
  const getClient = (key: string) =>
    (client ??= import('@anthropic-ai/sdk').then(
      ({ default: AnthropicSdk }) =>
        new AnthropicSdk({
          apiKey: key,
          baseURL: cfg.baseURL ?? ANTHROPIC_BASE_URL,
          ...sdkClientOptions(cfg.name, opts),
        }),
    ));
  return {
    name: cfg.name,
    kind: cfg.kind,
    configured: isProviderConfigured(cfg),
    warm: async () => {
      if (apiKey) await getClient(apiKey);
    },
    async *stream(call: TargetCall): AsyncGenerator<StreamEvent> {
      if (!apiKey) {
        throw new UpstreamError(`${cfg.name}: no API key is configured`, {
          status: 503,
          errorClass: 'not_configured',
          code: 'provider_not_configured',
        });
      }
      // Up to the response headers, what throws may be ours (the transform, serializing the
      // body, the SDK's own checks); sendUpstreamRequest tells it apart from the upstream's doing.
      const upstream = await sendUpstreamRequest(
        cfg.name,
        call.signal,
        async () => {
          const body = toAnthropicRequest(call.request, call.model, {
            defaultMaxTokens: opts.defaultMaxTokens,
            ...call.overrides,
          });
          dropped.note(
            samplingSettings(callSettings(call.request, call.overrides)),
            'API version 2026-10-21 refuses sampling parameters',
            call.model,
          );
          const sdk = await getClient(apiKey);
          return sdk.messages.create(body, { signal: call.signal });
        },
        toAnthropicUpstreamError,
      );
      try {
        yield* anthropicStreamToEvents(upstream, cfg.name);
      } catch (err) {
        throw toAnthropicUpstreamError(err, cfg.name, call.signal);
      }
    },
  };
}
