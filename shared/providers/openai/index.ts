// The OpenAI provider, also used for every OpenAI-compatible server (Gemini, Groq, vLLM, ...).
import type OpenAI from 'openai';
import type { ProviderConfig } from '../../config';
import { isProviderConfigured } from '../../config';
import { silentLogger } from '../../observability/log';
import { callSettings, DroppedSettings, samplingSettings } from '../call-settings';
import { type SdkProviderOptions, sdkClientOptions } from '../sdk-logger';
import type { Provider, StreamEvent, TargetCall } from '../types';
import { sendUpstreamRequest, toUpstreamError } from '../upstream-error';
import { dropsSampling, toOpenAIRequest } from './request';
import { openaiChunksToEvents } from './stream';

export function createOpenAIProvider(cfg: ProviderConfig, opts: SdkProviderOptions): Provider {
  const dialect = cfg.kind === 'openai' ? 'openai' : 'compatible';
  const dropped = new DroppedSettings(opts.log ?? silentLogger, cfg.name);
  // The SDK is loaded on first use (or by warm()), so a bundle that routes nowhere near OpenAI
  // never pays for evaluating it. Retries and failover belong to the routing layer, so the SDK
  // never retries on its own.
  let client: Promise<OpenAI> | undefined;
  const getClient = () =>
    (client ??= import('openai').then(
      ({ default: OpenAISdk }) =>
        new OpenAISdk({
          apiKey: cfg.apiKey ?? 'not-needed',
          baseURL: cfg.baseURL ?? null,
          ...sdkClientOptions(cfg.name, opts),
        }),
    ));
  return {
    name: cfg.name,
    kind: cfg.kind,
    configured: isProviderConfigured(cfg),
    warm: async () => {
      await getClient();
    },
    async *stream(call: TargetCall): AsyncGenerator<StreamEvent> {
      // Up to the response headers, what throws may be ours (the transform, serializing the
      // body, the SDK's own checks); sendUpstreamRequest tells it apart from the upstream's doing.
      const upstream = await sendUpstreamRequest(cfg.name, call.signal, async () => {
        const body = toOpenAIRequest(call.request, call.model, { dialect, ...call.overrides });
        if (dropsSampling(call.model, dialect)) {
          const settings = samplingSettings(callSettings(call.request, call.overrides));
          dropped.note(settings, 'reasoning models refuse sampling parameters', call.model);
        }
        const sdk = await getClient();
        return sdk.chat.completions.create(body, { signal: call.signal });
      });
      try {
        yield* openaiChunksToEvents(upstream, cfg.name);
      } catch (err) {
        // After an abort (idle or first-byte timeout, lost hedge, client gone) its reason is the
        // truth, not what the SDK made of the cut-off body.
        throw toUpstreamError(call.signal.aborted ? (call.signal.reason ?? err) : err, cfg.name, call.signal);
      }
    },
  };
}
