// The chat completions endpoint, host-neutral: auth, parse, route, enrich with the session's
// images, open an upstream stream (with failover) and encode it as SSE or one JSON object.
import { randomUUID } from 'node:crypto';
import type { Config } from '../config';
import { conversationKey } from '../context/resolve-session';
import { type ApiError, NotFoundError, PayloadTooLargeError, toApiError, UpstreamError } from '../errors';
import { type HttpRequest, type HttpResponse, jsonResponse } from '../http/types';
import type { Logger } from '../observability/log';
import { ChunkEncoder, CompletionAggregator, newResponseIdentity } from '../openai/chunks';
import type { ChatRequest } from '../openai/schema';
import { SSE_DONE, SSE_HEADERS, sseData, sseError } from '../openai/sse';
import type { Providers } from '../providers/registry';
import type { StreamEvent } from '../providers/types';
import { toUpstreamError } from '../providers/upstream-error';
import type { BreakerLike } from '../routing/breaker-types';
import {
  AllTargetsFailedError,
  type FallbackSettings,
  type OpenStream,
  openStream,
} from '../routing/fallback';
import { findRoute, type Route, type RouteTarget } from '../routing/routes';
import type { LiveTurn, LiveTurns } from '../turns/live-turns';
import { checkBearer } from './auth';
import { parseChatRequest } from './parse';
import { UsageMeter } from './partial-usage';
import { clientDisconnected, type TurnAborted, turnAbortOf } from './turn-abort';
import type { TurnRecord } from './turn-record';

/** Adds a conversation's images (issue: image context) to a turn; identity when absent. */
export interface TurnEnricher {
  enrich(
    request: ChatRequest,
    http: HttpRequest,
    signal: AbortSignal,
  ): Promise<{
    request: ChatRequest;
    sessionId?: string;
    imageCount: number;
    prepare?: (t: RouteTarget, r: ChatRequest) => Promise<ChatRequest>;
  }>;
}

export interface ChatDeps {
  config: Config;
  providers: Providers;
  breaker: BreakerLike;
  fallback: FallbackSettings;
  log: Logger;
  enricher?: TurnEnricher;
  /** Checked before any upstream call (per-session budgets); throws an ApiError to refuse. */
  admitTurn?: (sessionId: string | undefined) => Promise<void>;
  onTurnEnd?: (record: TurnRecord) => void;
  /** One live turn per conversation: a turn that begins stops the older one of its conversation. */
  liveTurns?: LiveTurns;
  /** Milliseconds without an upstream event, mid-stream, before the stream is ended with an error. */
  streamIdleTimeoutMs?: number;
  now?: () => number;
}

const CHAT_PATHS = new Set(['/v1/chat/completions', '/chat/completions']);

export function isChatPath(path: string): boolean {
  return CHAT_PATHS.has(path.replace(/\/+$/, ''));
}

function errorResponse(err: ApiError, requestId: string): HttpResponse {
  const headers: Record<string, string> = { 'x-request-id': requestId };
  if (err.retryAfterSeconds !== undefined) headers['retry-after'] = String(err.retryAfterSeconds);
  return jsonResponse(err.status, err.toBody(), headers);
}

export function createChatHandler(deps: ChatDeps) {
  const now = deps.now ?? Date.now;
  const idleTimeoutMs = deps.streamIdleTimeoutMs ?? 30_000;

  return async function handleChat(http: HttpRequest, hostSignal: AbortSignal): Promise<HttpResponse> {
    const t0 = now();
    // The host's signal (client gone, invocation deadline); once the turn is known to belong to a
    // conversation, also a newer turn of that conversation.
    let signal = hostSignal;
    let live: LiveTurn | undefined;
    const requestId = randomUUID();
    const log = deps.log.child({ requestId });
    const record: TurnRecord = {
      requestId,
      requestedModel: '',
      route: '',
      attempts: [],
      stream: false,
      imageCount: 0,
      totalMs: 0,
      status: 200,
    };
    const finishRecord = (status: number, error?: string) => {
      record.status = status;
      if (error) record.error = error;
      record.totalMs = now() - t0;
      live?.end();
      deps.onTurnEnd?.(record);
    };

    let request: ChatRequest;
    let route: Route;
    let prepare: ((t: RouteTarget, r: ChatRequest) => Promise<ChatRequest>) | undefined;
    try {
      checkBearer(http.headers.authorization, deps.config.chatApiKey);
      if (http.body.length > deps.config.maxBodyBytes) {
        throw new PayloadTooLargeError(
          `The request body is ${http.body.length} bytes; the limit is ${deps.config.maxBodyBytes}.`,
        );
      }
      request = parseChatRequest(http.body);
      // Only a turn that names its conversation is watched; others keep the host's signal alone
      // (no combined signal, no listeners on the per-token path).
      const conversation = deps.liveTurns ? conversationKey(request, http.headers) : undefined;
      if (deps.liveTurns && conversation) {
        live = deps.liveTurns.begin(conversation, requestId);
        signal = AbortSignal.any([hostSignal, live.signal]);
      }
      record.requestedModel = request.model;
      record.stream = request.stream === true;
      const found = findRoute(deps.config.routes, request.model);
      if (!found)
        throw new NotFoundError(
          `No route for model "${request.model}". Configure it in MODEL_ROUTES (or add a "*" route).`,
          'model_not_found',
          'model',
        );
      route = found;
      record.route = route.name;
      if (deps.enricher) {
        const contextStart = now();
        const enriched = await deps.enricher.enrich(request, http, signal);
        record.contextMs = now() - contextStart;
        request = enriched.request;
        prepare = enriched.prepare;
        record.imageCount = enriched.imageCount;
        if (enriched.sessionId) record.sessionId = enriched.sessionId;
      }
      await deps.admitTurn?.(record.sessionId);
    } catch (err) {
      if (signal.aborted) return errorResponse(turnAborted(undefined).apiError, requestId);
      const apiErr = toApiError(err);
      if (apiErr.status >= 500) log.error('chat request failed', { error: err });
      finishRecord(apiErr.status, apiErr.code ?? apiErr.type);
      return errorResponse(apiErr, requestId);
    }

    const open = () =>
      openStream(route, request, {
        providers: deps.providers,
        breaker: deps.breaker,
        settings: deps.fallback,
        signal,
        now,
        log: (level, msg, fields) => log[level](msg, fields),
        ...(prepare ? { prepareRequest: prepare } : {}),
      });

    const identity = newResponseIdentity(request.model, now());
    const recordUpstream = (upstream: OpenStream) => {
      record.provider = upstream.target.provider;
      record.model = upstream.model;
      record.attempts = upstream.attempts;
      record.ttftMs = upstream.firstEventMs;
    };
    const headers = { 'x-request-id': requestId };
    const meter = new UsageMeter();

    /**
     * A turn stopped by its signal (client gone, invocation deadline) or by the host no longer
     * reading its stream: the upstream and every attempt are already being aborted through the
     * signal; record the turn once, with what it used so far. A barge-in is routine in voice:
     * info, not warn. The upstream is settled as aborted, which no breaker counts.
     */
    function turnAborted(upstream: OpenStream | undefined): TurnAborted {
      const reason = turnAbortOf(signal) ?? clientDisconnected();
      if (upstream) {
        upstream.abort(reason);
        upstream.settle(new UpstreamError(reason.message, { errorClass: 'aborted' }));
        const partial = meter.partial(request, {
          name: upstream.target.provider,
          kind: deps.providers.get(upstream.target.provider)?.kind,
        });
        if (partial) {
          record.usage = partial.usage;
          if (partial.estimated) record.usageEstimated = true;
        }
      }
      const fields = { kind: reason.kind, afterFirstByte: upstream !== undefined };
      if (reason.routine) log.info('turn aborted', fields);
      else log.warn('turn aborted', fields);
      finishRecord(reason.apiError.status, reason.apiError.code ?? reason.kind);
      return reason;
    }

    /** A turn that failed before any upstream byte reached the client: record it, once. */
    const turnFailed = (err: unknown): ApiError => {
      if (err instanceof AllTargetsFailedError) record.attempts = err.attempts;
      if (signal.aborted) return turnAborted(undefined).apiError;
      const apiErr = toApiError(err);
      log.warn('chat turn failed', { status: apiErr.status, code: apiErr.code, message: apiErr.message });
      finishRecord(
        apiErr.status,
        apiErr instanceof UpstreamError ? apiErr.errorClass : (apiErr.code ?? apiErr.type),
      );
      return apiErr;
    };

    if (request.stream !== true) {
      let upstream: OpenStream | undefined;
      try {
        upstream = await open();
        recordUpstream(upstream);
        const agg = new CompletionAggregator();
        for await (const event of withIdleTimeout(upstream, idleTimeoutMs)) {
          meter.add(event);
          agg.add(event);
        }
        upstream.settle();
        const completion = agg.result(identity);
        if (agg.usage) record.usage = agg.usage;
        record.finishReason = completion.choices[0]?.finish_reason;
        finishRecord(200);
        return jsonResponse(200, completion, headers);
      } catch (err) {
        if (upstream && signal.aborted) return errorResponse(turnAborted(upstream).apiError, requestId);
        if (upstream && err instanceof UpstreamError) upstream.settle(err);
        return errorResponse(turnFailed(err), requestId);
      }
    }

    const encoder = new ChunkEncoder(identity, request.stream_options?.include_usage === true);
    const bufferWords = route.bufferWords;

    async function* pump(upstream: OpenStream): AsyncGenerator<string> {
      recordUpstream(upstream);
      let ended = false;
      try {
        for await (const event of withIdleTimeout(upstream, idleTimeoutMs)) {
          meter.add(event);
          const chunk = encoder.encode(event);
          if (chunk) yield sseData(chunk);
        }
        // The upstream answered in full: the turn is complete whether or not the client reads
        // the closing chunks.
        ended = true;
        upstream.settle();
        if (encoder.finalUsage) record.usage = encoder.finalUsage;
        record.finishReason = encoder.finalReason ?? 'stop';
        finishRecord(200);
        for (const chunk of encoder.end()) yield sseData(chunk);
        yield SSE_DONE;
      } catch (err) {
        if (signal.aborted) {
          ended = true;
          const reason = turnAborted(upstream);
          if (!reason.clientGone) yield sseError(reason.apiError.toBody());
          return;
        }
        const upErr =
          err instanceof UpstreamError ? err : toUpstreamError(err, upstream.target.provider, signal);
        upstream.settle(upErr);
        ended = true;
        log.warn('stream failed after the first byte', {
          target: upstream.target.id,
          errorClass: upErr.errorClass,
        });
        finishRecord(200, upErr.errorClass);
        yield sseError(upErr.toBody());
      } finally {
        // The host stopped reading (its client went away): stop the upstream too.
        if (!ended) turnAborted(upstream);
      }
    }

    if (bufferWords) {
      // 200 is committed now; anything that fails before the first upstream byte becomes an
      // error event. Failover still works: the buffer words belong to no provider.
      async function* withBuffer(): AsyncGenerator<string> {
        yield sseData(encoder.text(bufferWords!));
        let upstream: OpenStream;
        try {
          upstream = await open();
        } catch (err) {
          const apiErr = turnFailed(err);
          if (!turnAbortOf(signal)?.clientGone) yield sseError(apiErr.toBody());
          return;
        }
        yield* pump(upstream);
      }
      return { status: 200, headers: { ...SSE_HEADERS, ...headers }, stream: withBuffer() };
    }

    let upstream: OpenStream;
    try {
      upstream = await open();
    } catch (err) {
      return errorResponse(turnFailed(err), requestId);
    }
    return { status: 200, headers: { ...SSE_HEADERS, ...headers }, stream: pump(upstream) };
  };
}

/**
 * Yields the stream's first event and the rest, ending it with an UpstreamError when the
 * upstream goes silent for `idleMs` mid-stream (a hang must never become a hung client).
 * One timer, refreshed per event, aborts the upstream call; the provider then throws the
 * abort reason. No per-token promises or timers on the hot path.
 */
async function* withIdleTimeout(upstream: OpenStream, idleMs: number): AsyncGenerator<StreamEvent> {
  yield upstream.first;
  const it = upstream.rest;
  const timer = setTimeout(() => {
    upstream.abort(
      new UpstreamError(`${upstream.target.id} went silent for ${idleMs} ms mid-stream`, {
        status: 504,
        errorClass: 'stream_idle_timeout',
        code: 'upstream_stream_timeout',
      }),
    );
  }, idleMs);
  try {
    while (true) {
      const r = await it.next();
      if (r.done) return;
      timer.refresh();
      yield r.value;
      timer.refresh();
    }
  } finally {
    clearTimeout(timer);
  }
}
