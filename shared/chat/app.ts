// Composition of the chat service (chat completions, responses, health) from configuration. The Lambda
// entry and the local dev server both call this; tests do too.
import type { Config } from '../config';
import { Router } from '../http/router';
import { type HttpHandler, jsonResponse } from '../http/types';
import type { ImageTargetHealth } from '../imagegen/runner';
import type { Logger } from '../observability/log';
import { createProviders, type Providers } from '../providers/registry';
import { createResponsesHandler } from '../responses/door';
import { type BreakerHealth, type BreakerHealthView, breakerHealthView } from '../routing/breaker-record';
import { type BreakerLike, noBreaker } from '../routing/breaker-types';
import { DEFAULT_FALLBACK_SETTINGS, type FallbackSettings } from '../routing/fallback';
import { LiveTurns } from '../turns/live-turns';
import { checkBearer } from './auth';
import { type ChatDeps, createChatHandler } from './handler';
import type { TurnLoop } from './turn-core';
import type { TurnEnricher } from './turn-enricher';
import type { TurnRecord } from './turn-record';

export interface TargetHealth extends BreakerHealthView {
  id: string;
  provider: string;
  model: string;
  keyConfigured: boolean;
}

export interface HealthReport {
  status: 'ok';
  echoFallback: boolean;
  chatAuth: 'bearer' | 'open';
  routes: { name: string; targets: TargetHealth[] }[];
  /** IMAGE_GENERATION: every image catalog entry with its key and breaker state. */
  imageTargets?: ImageTargetHealth[];
}

export interface BreakerSnapshotSource {
  snapshot(targets: string[]): Promise<Record<string, BreakerHealth>>;
}

export interface ChatAppOptions {
  config: Config;
  log: Logger;
  breaker?: BreakerLike & Partial<BreakerSnapshotSource>;
  enricher?: TurnEnricher;
  /** The turn core's event seam (image generation's tool loop); one upstream call per turn when absent. */
  loop?: TurnLoop;
  admitTurn?: ChatDeps['admitTurn'];
  onTurnEnd?: (record: TurnRecord) => void;
  fallback?: Partial<FallbackSettings>;
  streamIdleTimeoutMs?: number;
  providers?: Providers;
  liveTurns?: LiveTurns;
  /** The image generator's targets for /health (shared/imagegen/runner.ts), when image generation is on. */
  imageHealth?: () => Promise<ImageTargetHealth[]>;
}

export interface ChatApp {
  handler: HttpHandler;
  router: Router;
  providers: Providers;
  health(): Promise<HealthReport>;
}

export function createChatApp(opts: ChatAppOptions): ChatApp {
  const { config, log } = opts;
  const providers = opts.providers ?? createProviders(config, log);
  const breaker = opts.breaker ?? noBreaker;
  // Without a shared store (no control table), a newer turn still stops an older one running in
  // this same process.
  const liveTurns =
    opts.liveTurns ??
    (config.liveTurns.enabled
      ? new LiveTurns({ log: (level, msg, fields) => log[level](msg, fields) })
      : undefined);
  // One set of dependencies for both doors: a turn through either stops the older live turn of
  // its conversation, whichever door that one came through.
  const deps: ChatDeps = {
    config,
    providers,
    breaker,
    fallback: {
      ...DEFAULT_FALLBACK_SETTINGS,
      firstByteTimeoutMs: config.firstByteTimeoutMs,
      ...opts.fallback,
    },
    log,
    ...(opts.enricher ? { enricher: opts.enricher } : {}),
    ...(opts.loop ? { loop: opts.loop } : {}),
    ...(opts.admitTurn ? { admitTurn: opts.admitTurn } : {}),
    ...(opts.onTurnEnd ? { onTurnEnd: opts.onTurnEnd } : {}),
    ...(opts.streamIdleTimeoutMs ? { streamIdleTimeoutMs: opts.streamIdleTimeoutMs } : {}),
    ...(liveTurns ? { liveTurns } : {}),
  };
  const chat = createChatHandler(deps);
  const responses = createResponsesHandler(deps);

  async function health(): Promise<HealthReport> {
    const routes = [...config.routes.values()];
    const ids = [...new Set(routes.flatMap((r) => r.targets.map((t) => t.id)))];
    let snap: Awaited<ReturnType<BreakerSnapshotSource['snapshot']>> = {};
    try {
      snap = opts.breaker?.snapshot ? await opts.breaker.snapshot(ids) : {};
    } catch (err) {
      log.warn('breaker snapshot failed', { error: err });
    }
    // The runner reads its own breaker states and fails open as chat does: it never throws.
    const imageTargets = opts.imageHealth ? await opts.imageHealth() : undefined;
    return {
      status: 'ok',
      echoFallback: config.echoFallback,
      chatAuth: config.chatApiKey ? 'bearer' : 'open',
      routes: routes.map((r) => ({
        name: r.name,
        targets: r.targets.map((t) => {
          const s = snap[t.id];
          const h: TargetHealth = {
            id: t.id,
            provider: t.provider,
            model: t.model,
            keyConfigured: providers.get(t.provider)?.configured ?? false,
            ...breakerHealthView(s),
          };
          return h;
        }),
      })),
      ...(imageTargets ? { imageTargets } : {}),
    };
  }

  const router = new Router()
    .on('POST', '/v1/chat/completions', (req, _p, signal) => chat(req, signal))
    .on('POST', '/chat/completions', (req, _p, signal) => chat(req, signal))
    .on('POST', '/v1/responses', (req, _p, signal) => responses(req, signal))
    .on('POST', '/responses', (req, _p, signal) => responses(req, signal))
    .on('GET', '/health', async (req) => {
      // The chat URL is public (auth NONE for ElevenLabs): anyone may learn that it is up, but
      // routes, providers and breaker states are for holders of the chat key.
      if (config.chatApiKey) {
        try {
          checkBearer(req.headers.authorization, config.chatApiKey);
        } catch {
          return jsonResponse(200, {
            status: 'ok',
            detail: 'send Authorization: Bearer <CHAT_API_KEY> for routes and breakers',
          });
        }
      }
      return jsonResponse(200, await health());
    });

  // Chat answers its own errors; what reaches here is a bug in health or in routes mounted beside
  // chat (the dev server mounts the browser API on this router), and a bug is logged.
  return {
    handler: router.handler((err) => log.error('request failed', { error: err })),
    router,
    providers,
    health,
  };
}

/**
 * Loads the SDK of every provider a route can reach, so the first turn does not pay for it
 * (inside its first-byte timeout).
 */
export async function warmRouteProviders(app: ChatApp, config: Config): Promise<void> {
  const used = new Set([...config.routes.values()].flatMap((r) => r.targets.map((t) => t.provider)));
  await Promise.all([...used].map((name) => app.providers.get(name)?.warm?.()));
}
