// One live turn per conversation. When a user interrupts a voice agent, ElevenLabs drops the
// request and sends the next turn; on Lambda nothing tells the old invocation, so the newer turn
// of the same conversation is the signal. A turn that begins stops any older turn of its
// conversation: at once on this container, within one poll of the control table on any other.
import { inBackground } from '../background';
import { superseded } from '../chat/turn-abort';
import { type ControlLog, controlTableUnavailable } from '../limits/control-table';
import { ThrottledErrorLog } from '../observability/throttled-error-log';
import type { LiveTurnStore } from './live-turn-store';

export interface LiveTurn {
  /** Aborts (with a `superseded` TurnAborted) when a newer turn of the conversation starts. */
  readonly signal: AbortSignal;
  /** The turn is over: stop watching and let the conversation go. */
  end(): void;
}

export interface LiveTurnsOptions {
  /** Shared record of each conversation's live turn; without it only this container is watched. */
  store?: LiveTurnStore;
  /** How often a running turn reads the store; bounds how late another container's turn stops it. */
  pollMs?: number;
  log: ControlLog;
  now?: () => number;
  errorLogIntervalMs?: number;
}

const NEVER = new AbortController().signal;
const UNWATCHED: LiveTurn = { signal: NEVER, end: () => {} };

export class LiveTurns {
  private readonly local = new Map<string, { turnId: string; ctrl: AbortController }>();
  private readonly now: () => number;
  private readonly pollMs: number;
  private readonly errors: ThrottledErrorLog;

  constructor(private readonly opts: LiveTurnsOptions) {
    this.now = opts.now ?? Date.now;
    this.pollMs = opts.pollMs ?? 250;
    this.errors = new ThrottledErrorLog(
      opts.log,
      controlTableUnavailable('live turns'),
      opts.errorLogIntervalMs ?? 60_000,
      this.now,
    );
  }

  /**
   * Makes `turnId` the live turn of its conversation and stops the older one. A turn with no
   * conversation key (no session or conversation id could be found) is not watched.
   */
  begin(conversationKey: string | undefined, turnId: string): LiveTurn {
    if (!conversationKey) return UNWATCHED;
    const ctrl = new AbortController();
    this.local.get(conversationKey)?.ctrl.abort(superseded(turnId));
    this.local.set(conversationKey, { turnId, ctrl });

    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(timer);
      if (this.local.get(conversationKey)?.ctrl === ctrl) this.local.delete(conversationKey);
    };
    ctrl.signal.addEventListener('abort', end, { once: true });

    const store = this.opts.store;
    if (store && this.pollMs > 0) {
      let reading = false;
      const check = async () => {
        if (reading || ended) return;
        reading = true;
        try {
          const holder = await store.holder(conversationKey);
          if (!ended && holder !== undefined && holder !== turnId) {
            ctrl.abort(superseded(holder));
          }
        } catch (err) {
          this.errors.report(err, { operation: 'read live turn' });
        } finally {
          reading = false;
        }
      };
      // The claim is not awaited by the turn: it must not delay the first token. Polling starts
      // once it has landed (or failed), so a turn never reads its own claim before writing it.
      // Tracked as background work: on Lambda a short turn's invocation must not end (and freeze)
      // with the claim half-sent, or the next turn of the conversation would not see it.
      const claimed = store
        .claim(conversationKey, { turnId, startedAt: this.now() })
        .catch((err: unknown) => this.errors.report(err, { operation: 'claim live turn' }));
      inBackground(claimed);
      void claimed.then(() => {
        if (ended) return;
        timer = setInterval(() => void check(), this.pollMs);
        // A poll never keeps a process (or a Lambda invocation) alive on its own.
        timer.unref();
      });
    }
    return { signal: ctrl.signal, end };
  }
}
