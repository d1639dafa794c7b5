// Why a running turn was stopped. Every trigger (the client hung up, the Lambda invocation is
// about to time out, later a newer turn of the same conversation) aborts the turn's AbortSignal
// with one of these as the reason; the chat handler reads it back to end the turn the same way.
import { ApiError } from '../errors';

export type TurnAbortKind = 'client_disconnected' | 'invocation_deadline' | 'superseded';

/** The error code (and turn-record error) of a turn stopped by a newer turn of its conversation. */
export const TURN_SUPERSEDED = 'turn_superseded';

export class TurnAborted extends Error {
  readonly kind: TurnAbortKind;
  /**
   * What the turn ends with: its status and code go into the turn record; a client still
   * listening (not the case when it hung up) gets it as the error response or SSE error event.
   */
  readonly apiError: ApiError;
  /** The client is gone: nothing more is written to it. */
  readonly clientGone: boolean;
  /** An expected event in voice (a barge-in, seen either way): logged at info, never an error. */
  readonly routine: boolean;

  constructor(kind: TurnAbortKind, apiError: ApiError, clientGone: boolean, routine = clientGone) {
    super(apiError.message);
    this.name = 'TurnAborted';
    this.kind = kind;
    this.apiError = apiError;
    this.clientGone = clientGone;
    this.routine = routine;
  }
}

export function clientDisconnected(): TurnAborted {
  // 499 is nginx's "client closed request": it only ever reaches logs and metrics.
  const error = new ApiError(499, 'invalid_request_error', 'The client closed the request.', {
    code: 'client_disconnected',
  });
  return new TurnAborted('client_disconnected', error, true);
}

/** The host is about to be stopped (Lambda's invocation timeout): end the turn while we can. */
export function invocationDeadline(remainingMs: number): TurnAborted {
  const error = new ApiError(
    504,
    'timeout_error',
    `The answer was cut ${remainingMs} ms before the function's time limit.`,
    { code: 'invocation_deadline' },
  );
  return new TurnAborted('invocation_deadline', error, false);
}

/**
 * A newer turn of the same conversation started (the user interrupted, and ElevenLabs sent the
 * next turn). Whoever still listens gets a 409 error object or SSE error event; the turn is
 * recorded as superseded, with what it used so far.
 */
export function superseded(byTurnId: string | undefined): TurnAborted {
  const error = new ApiError(
    409,
    'invalid_request_error',
    `A newer turn of this conversation started${byTurnId ? ` (${byTurnId})` : ''}; this one was stopped.`,
    { code: TURN_SUPERSEDED },
  );
  return new TurnAborted('superseded', error, false, true);
}

/**
 * Why `signal` aborted. A reason that is not a TurnAborted (a host or test that aborted with
 * anything else) is taken as the client going away, the only trigger that existed before.
 */
export function turnAbortOf(signal: AbortSignal): TurnAborted | undefined {
  if (!signal.aborted) return undefined;
  return signal.reason instanceof TurnAborted ? signal.reason : clientDisconnected();
}
