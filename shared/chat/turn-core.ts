// The turn core, door-neutral: one voice turn from an HTTP request to provider-neutral events,
// whatever API dialect (door) the client speaks. A turn runs these steps, in order:
//
//   authorize -> check size -> parse (the door) -> watch (one live turn per conversation)
//   -> route -> resolve context (session images) -> admit (budgets)
//   -> open (failover, breakers; shared/routing/fallback.ts) -> events -> encode (the door)
//
// and ends in exactly one turn record (turn-record.ts), whatever happens.
//
// DOORS. A door (`TurnDoor<P>`) is the mapping in and out for one API: `parse` reads its body
// into its own parsed form P (an ApiError naming the field when it cannot), `chatRequest` maps P
// to the internal ChatRequest the core runs; `streamEncoder(P)` gives, per streamed turn, the
// frames for the start (and buffer words), for each StreamEvent, for the end, and for an error
// after the 200 was sent; `replyBuilder(P)` folds a non-streamed turn into the door's JSON body. Everything else (auth, size limit, superseding, routing, image context, budgets,
// failover, idle timeout, barge-in, partial usage, logs, the record) is here, once. Errors before
// the stream are OpenAI error objects for every door (both OpenAI APIs use them). A door plugs in
// with `createTurnHandler(deps, door)`; shared/chat/handler.ts is the Chat Completions door.
//
// THE EVENT SEAM. The events a door encodes come from a `TurnLoop` (deps.loop), not straight from
// the upstream. The default, `SINGLE_CALL`, is one upstream stream under the idle timeout. A loop
// may span several upstream calls within one client stream (issue 11's server-side tool):
// `begin` adjusts the request before the first call (offer the tool); `events(leg)` reads
// `leg.upstream`, holds back what belongs to the server (its tool call, the intermediate
// finish), and when it has handled the tool calls `leg.next(request)`, which settles the answered
// upstream, opens the next one with the same failover and makes it current: aborts, partial
// usage, failures and the record follow `leg.upstream`. The door sees one stream of events: one
// id, one role, one finish, one end.
//
// Per-token cost: the only per-event work in the core is UsageMeter.add (counters) and the door's
// encode; the loop is the one generator layer between the upstream and the host.
import { randomUUID } from 'node:crypto';
import type { Config } from '../config';
import { conversationKey } from '../context/resolve-session';
import { type ApiError, NotFoundError, PayloadTooLargeError, toApiError, UpstreamError } from '../errors';
import { type HttpRequest, type HttpResponse, jsonResponse } from '../http/types';
import type { Logger } from '../observability/log';
import type { ChatRequest } from '../openai/schema';
import { SSE_HEADERS } from '../openai/sse';
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
import { UsageMeter } from './partial-usage';
import { clientDisconnected, type TurnAborted, turnAbortOf } from './turn-abort';
import type { TurnEnricher } from './turn-enricher';
import { newTurnFacts, type TurnFacts, type TurnRecord, turnRecord } from './turn-record';

/**
 * One API dialect over the turn core: its request in, its answer out. `P` is the door's own
 * parsed body, handed back to its encoders (so a door can echo what the internal request does
 * not carry, e.g. the Responses API's `instructions` or `metadata`); the Chat Completions door's
 * P is the ChatRequest itself.
 */
export interface TurnDoor<P = ChatRequest> {
  /** The body, parsed; throws an ApiError (400, the field named) when it cannot. */
  parse(body: Buffer): P;
  /** The internal request the parsed body asks for. */
  chatRequest(parsed: P): ChatRequest;
  /** Frames of one streamed answer; `createdAtMs` is when the answer's identity is made. */
  streamEncoder(parsed: P, createdAtMs: number): TurnStreamEncoder;
  /** The body of one non-streamed answer. */
  replyBuilder(parsed: P, createdAtMs: number): TurnReplyBuilder;
}

/**
 * Encodes one streamed answer. Called in this order: `start` once, `encode` per event (the hot
 * path: return a string or undefined, no arrays), then either `end` or `error`, once.
 */
export interface TurnStreamEncoder {
  /** First frames, sent before the first upstream event; with the route's buffer words, those. */
  start(bufferWords: string | undefined): string[];
  encode(event: StreamEvent): string | undefined;
  /** The closing frames after the last event (finish, usage, the end marker). */
  end(): string[];
  /** The frames that end a stream that failed or was stopped after the 200 was sent. */
  error(err: ApiError): string[];
}

/** Folds the events of a non-streamed answer into the door's JSON body. */
export interface TurnReplyBuilder {
  add(event: StreamEvent): void;
  body(): unknown;
}

/** The upstream side of a running turn, as a `TurnLoop` sees it. */
export interface TurnLeg {
  /** The upstream streaming now: the one the core aborts, settles, blames and records. */
  readonly upstream: OpenStream;
  /** The request `upstream` answers. */
  readonly request: ChatRequest;
  /** Aborted when the turn is stopped (client gone, deadline, superseded). */
  readonly signal: AbortSignal;
  /** Milliseconds without an upstream event, mid-stream, before the stream ends with an error. */
  readonly idleTimeoutMs: number;
  /**
   * The next upstream call of the same turn: settles the current upstream as answered, opens
   * `request` over the route (failover, breakers, the turn's signal) and makes it current.
   */
  next(request: ChatRequest): Promise<OpenStream>;
}

/** Where the events a door encodes come from (see THE EVENT SEAM above). */
export interface TurnLoop {
  /** The request for the first upstream call (issue 11: offers the server's tool). */
  begin?(request: ChatRequest, route: Route): ChatRequest;
  events(leg: TurnLeg): AsyncIterable<StreamEvent>;
}

/** One upstream call per turn: what every turn does until a server-side tool exists. */
export const SINGLE_CALL: TurnLoop = {
  events: (leg) => upstreamEvents(leg.upstream, leg.idleTimeoutMs),
};

export interface TurnDeps {
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
  /** The event seam; `SINGLE_CALL` when absent. */
  loop?: TurnLoop;
  now?: () => number;
}

/** A turn past admission: what it asks, where it goes, and how each target gets its images. */
interface Admitted {
  request: ChatRequest;
  route: Route;
  prepare?: (t: RouteTarget, r: ChatRequest) => Promise<ChatRequest>;
}

export function createTurnHandler<P>(deps: TurnDeps, door: TurnDoor<P>) {
  const now = deps.now ?? Date.now;
  return async function handleTurn(http: HttpRequest, hostSignal: AbortSignal): Promise<HttpResponse> {
    const turn = new Turn(deps, hostSignal);
    let admitted: Admitted & { parsed: P };
    try {
      admitted = await turn.admit(http, door);
    } catch (err) {
      return turn.refused(err);
    }
    return admitted.request.stream === true
      ? turn.stream(admitted, door.streamEncoder(admitted.parsed, now()))
      : turn.reply(admitted, door.replyBuilder(admitted.parsed, now()));
  };
}

function errorResponse(err: ApiError, requestId: string): HttpResponse {
  const headers: Record<string, string> = { 'x-request-id': requestId };
  if (err.retryAfterSeconds !== undefined) headers['retry-after'] = String(err.retryAfterSeconds);
  return jsonResponse(err.status, err.toBody(), headers);
}

/** One turn's state and steps. Ends in `finish`, exactly once. */
class Turn {
  private readonly now: () => number;
  private readonly requestId = randomUUID();
  private readonly log: Logger;
  private readonly facts: TurnFacts;
  private readonly meter = new UsageMeter();
  /**
   * The host's signal (client gone, invocation deadline); once the turn is known to belong to a
   * conversation, also a newer turn of that conversation.
   */
  private signal: AbortSignal;
  private live: LiveTurn | undefined;
  private leg: Leg | undefined;

  constructor(
    private readonly deps: TurnDeps,
    hostSignal: AbortSignal,
  ) {
    this.now = deps.now ?? Date.now;
    this.facts = newTurnFacts(this.requestId, this.now());
    this.log = deps.log.child({ requestId: this.requestId });
    this.signal = hostSignal;
  }

  /** Every step before the first upstream call; throws what refuses the turn. */
  async admit<P>(http: HttpRequest, door: TurnDoor<P>): Promise<Admitted & { parsed: P }> {
    this.authorize(http);
    const parsed = door.parse(http.body);
    const asked = door.chatRequest(parsed);
    this.facts.requestedModel = asked.model;
    this.facts.stream = asked.stream === true;
    this.watch(asked, http);
    const route = this.route(asked);
    const { request, prepare } = await this.resolveContext(asked, http);
    await this.deps.admitTurn?.(this.facts.sessionId);
    const first = this.deps.loop?.begin ? this.deps.loop.begin(request, route) : request;
    return { parsed, request: first, route, ...(prepare ? { prepare } : {}) };
  }

  private authorize(http: HttpRequest): void {
    const { chatApiKey, maxBodyBytes } = this.deps.config;
    checkBearer(http.headers.authorization, chatApiKey);
    if (http.body.length > maxBodyBytes) {
      throw new PayloadTooLargeError(
        `The request body is ${http.body.length} bytes; the limit is ${maxBodyBytes}.`,
      );
    }
  }

  /**
   * One live turn per conversation. Only a turn that names its conversation is watched; others
   * keep the host's signal alone (no combined signal, no listeners on the per-token path).
   */
  private watch(request: ChatRequest, http: HttpRequest): void {
    const liveTurns = this.deps.liveTurns;
    const conversation = liveTurns ? conversationKey(request, http.headers) : undefined;
    if (!liveTurns || !conversation) return;
    this.live = liveTurns.begin(conversation, this.requestId);
    this.signal = AbortSignal.any([this.signal, this.live.signal]);
  }

  private route(request: ChatRequest): Route {
    const route = findRoute(this.deps.config.routes, request.model);
    if (!route)
      throw new NotFoundError(
        `No route for model "${request.model}". Configure it in MODEL_ROUTES (or add a "*" route).`,
        'model_not_found',
        'model',
      );
    this.facts.route = route.name;
    return route;
  }

  private async resolveContext(request: ChatRequest, http: HttpRequest): Promise<Omit<Admitted, 'route'>> {
    const enricher = this.deps.enricher;
    if (!enricher) return { request };
    const contextStart = this.now();
    const enriched = await enricher.enrich(request, http, this.signal);
    this.facts.contextMs = this.now() - contextStart;
    this.facts.imageCount = enriched.imageCount;
    if (enriched.sessionId) this.facts.sessionId = enriched.sessionId;
    return { request: enriched.request, ...(enriched.prepare ? { prepare: enriched.prepare } : {}) };
  }

  /** The answer to a turn refused before any upstream call. */
  refused(err: unknown): HttpResponse {
    if (this.signal.aborted) return errorResponse(this.aborted().apiError, this.requestId);
    const apiErr = toApiError(err);
    if (apiErr.status >= 500) this.log.error('chat request failed', { error: err });
    this.finish(apiErr.status, apiErr.code ?? apiErr.type);
    return errorResponse(apiErr, this.requestId);
  }

  private open(admitted: Admitted, request: ChatRequest): Promise<OpenStream> {
    return openStream(admitted.route, request, {
      providers: this.deps.providers,
      breaker: this.deps.breaker,
      settings: this.deps.fallback,
      signal: this.signal,
      now: this.now,
      log: (level, msg, fields) => this.log[level](msg, fields),
      ...(admitted.prepare ? { prepareRequest: admitted.prepare } : {}),
    });
  }

  /** Opens the first upstream call and makes it the turn's leg. */
  private async firstLeg(admitted: Admitted): Promise<Leg> {
    const upstream = await this.open(admitted, admitted.request);
    this.facts.ttftMs = upstream.firstEventMs;
    this.leg = new Leg(
      upstream,
      admitted.request,
      this.signal,
      this.deps.streamIdleTimeoutMs ?? 30_000,
      (r) => this.open(admitted, r),
    );
    this.recordUpstream(upstream);
    this.leg.onNext = (next) => this.recordUpstream(next);
    return this.leg;
  }

  private recordUpstream(upstream: OpenStream): void {
    this.facts.upstream = { provider: upstream.target.provider, model: upstream.model };
    this.facts.attempts =
      this.facts.attempts.length === 0 ? upstream.attempts : [...this.facts.attempts, ...upstream.attempts];
  }

  private events(leg: Leg): AsyncIterable<StreamEvent> {
    return (this.deps.loop ?? SINGLE_CALL).events(leg);
  }

  /** A non-streamed turn: one JSON body, or an error object. */
  async reply(admitted: Admitted, builder: TurnReplyBuilder): Promise<HttpResponse> {
    try {
      const leg = await this.firstLeg(admitted);
      for await (const event of this.events(leg)) {
        this.meter.add(event);
        builder.add(event);
      }
      leg.upstream.settle();
      this.answered();
      return jsonResponse(200, builder.body(), { 'x-request-id': this.requestId });
    } catch (err) {
      const upstream = this.leg?.upstream;
      if (upstream && this.signal.aborted) return errorResponse(this.aborted().apiError, this.requestId);
      if (upstream && err instanceof UpstreamError) upstream.settle(err);
      return errorResponse(this.failed(err), this.requestId);
    }
  }

  /**
   * A streamed turn. Without buffer words the status waits for the first upstream event, so a
   * turn no target can answer gets a plain error response. With them, 200 is committed at once
   * and such a failure becomes the door's error frames (failover still works: the buffer words
   * belong to no provider).
   */
  async stream(admitted: Admitted, encoder: TurnStreamEncoder): Promise<HttpResponse> {
    const headers = { ...SSE_HEADERS, 'x-request-id': this.requestId };
    const bufferWords = admitted.route.bufferWords;
    if (bufferWords)
      return { status: 200, headers, stream: this.bufferedFrames(admitted, encoder, bufferWords) };
    let leg: Leg;
    try {
      leg = await this.firstLeg(admitted);
    } catch (err) {
      return errorResponse(this.failed(err), this.requestId);
    }
    return { status: 200, headers, stream: this.frames(leg, encoder, encoder.start(undefined)) };
  }

  private async *bufferedFrames(
    admitted: Admitted,
    encoder: TurnStreamEncoder,
    bufferWords: string,
  ): AsyncGenerator<string> {
    // Once the turn is recorded (it failed) or `frames` owns it, its end is not ours to record.
    let handedOver = false;
    try {
      yield* encoder.start(bufferWords);
      let leg: Leg;
      try {
        leg = await this.firstLeg(admitted);
      } catch (err) {
        handedOver = true;
        const apiErr = this.failed(err);
        if (!turnAbortOf(this.signal)?.clientGone) yield* encoder.error(apiErr);
        return;
      }
      handedOver = true;
      yield* this.frames(leg, encoder, []);
    } finally {
      // The host stopped reading during the buffer words, before any upstream call.
      if (!handedOver) this.aborted();
    }
  }

  /** The per-token loop: events from the seam, through the meter, encoded by the door. */
  private async *frames(leg: Leg, encoder: TurnStreamEncoder, start: string[]): AsyncGenerator<string> {
    let ended = false;
    try {
      yield* start;
      for await (const event of this.events(leg)) {
        this.meter.add(event);
        const frame = encoder.encode(event);
        if (frame !== undefined) yield frame;
      }
      // The upstream answered in full: the turn is complete whether or not the client reads
      // the closing frames.
      ended = true;
      leg.upstream.settle();
      this.answered();
      yield* encoder.end();
    } catch (err) {
      ended = true;
      if (this.signal.aborted) {
        const reason = this.aborted();
        if (!reason.clientGone) yield* encoder.error(reason.apiError);
        return;
      }
      const upstream = leg.upstream;
      const upErr =
        err instanceof UpstreamError ? err : toUpstreamError(err, upstream.target.provider, this.signal);
      upstream.settle(upErr);
      this.log.warn('stream failed after the first byte', {
        target: upstream.target.id,
        errorClass: upErr.errorClass,
      });
      this.finish(200, upErr.errorClass);
      yield* encoder.error(upErr);
    } finally {
      // The host stopped reading (its client went away): stop the upstream too.
      if (!ended) this.aborted();
    }
  }

  /** The upstream answered in full. */
  private answered(): void {
    const usage = this.meter.usage;
    if (usage) this.facts.usage = usage;
    this.facts.finishReason = this.meter.finishReason;
    this.finish(200);
  }

  /**
   * A turn stopped by its signal (client gone, invocation deadline, superseded) or by the host no
   * longer reading its stream: the upstream and every attempt are already being aborted through
   * the signal; record the turn once, with what it used so far. A barge-in is routine in voice:
   * info, not warn. The upstream is settled as aborted, which no breaker counts.
   */
  private aborted(): TurnAborted {
    const reason = turnAbortOf(this.signal) ?? clientDisconnected();
    const leg = this.leg;
    if (leg) {
      const upstream = leg.upstream;
      upstream.abort(reason);
      upstream.settle(new UpstreamError(reason.message, { errorClass: 'aborted' }));
      const partial = this.meter.partial(leg.request, {
        name: upstream.target.provider,
        kind: this.deps.providers.get(upstream.target.provider)?.kind,
      });
      if (partial) {
        this.facts.usage = partial.usage;
        if (partial.estimated) this.facts.usageEstimated = true;
      }
    }
    const fields = { kind: reason.kind, afterFirstByte: leg !== undefined };
    if (reason.routine) this.log.info('turn aborted', fields);
    else this.log.warn('turn aborted', fields);
    this.finish(reason.apiError.status, reason.apiError.code ?? reason.kind);
    return reason;
  }

  /** A turn that failed before any upstream byte reached the client: record it, once. */
  private failed(err: unknown): ApiError {
    if (err instanceof AllTargetsFailedError)
      this.facts.attempts = this.leg ? [...this.facts.attempts, ...err.attempts] : err.attempts;
    if (this.signal.aborted) return this.aborted().apiError;
    const apiErr = toApiError(err);
    this.log.warn('chat turn failed', { status: apiErr.status, code: apiErr.code, message: apiErr.message });
    this.finish(
      apiErr.status,
      apiErr instanceof UpstreamError ? apiErr.errorClass : (apiErr.code ?? apiErr.type),
    );
    return apiErr;
  }

  private finish(status: number, error?: string): void {
    this.live?.end();
    this.deps.onTurnEnd?.(turnRecord(this.facts, status, this.now(), error));
  }
}

/** The core's `TurnLeg`: the current upstream, replaced by `next`. */
class Leg implements TurnLeg {
  /** Tells the turn about each upstream after the first (its record follows the current one). */
  onNext: ((upstream: OpenStream) => void) | undefined;

  constructor(
    public upstream: OpenStream,
    public request: ChatRequest,
    readonly signal: AbortSignal,
    readonly idleTimeoutMs: number,
    private readonly open: (request: ChatRequest) => Promise<OpenStream>,
  ) {}

  async next(request: ChatRequest): Promise<OpenStream> {
    this.upstream.settle();
    const upstream = await this.open(request);
    this.upstream = upstream;
    this.request = request;
    this.onNext?.(upstream);
    return upstream;
  }
}

/**
 * Yields the stream's first event and the rest, ending it with an UpstreamError when the
 * upstream goes silent for `idleMs` mid-stream (a hang must never become a hung client).
 * One timer, refreshed per event, aborts the upstream call; the provider then throws the
 * abort reason. No per-token promises or timers on the hot path.
 */
export async function* upstreamEvents(upstream: OpenStream, idleMs: number): AsyncGenerator<StreamEvent> {
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
