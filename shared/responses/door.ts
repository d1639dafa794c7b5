// The Responses door (`POST /v1/responses`, `POST /responses`): OpenAI's Responses request in,
// and out named `response.*` SSE events ending in response.completed, or one `response` object.
// The turn itself is the door-neutral core (shared/chat/turn-core.ts), as for chat completions.
import { createTurnHandler, type TurnDeps, type TurnDoor } from '../chat/turn-core';
import { newResponsesIdentity, ResponsesAggregator, ResponsesStreamEncoder } from './events';
import { parseResponsesRequest, type ResponsesTurn } from './request';

/** The parsed body is the internal request plus what the reply echoes (instructions, metadata). */
export const responsesDoor: TurnDoor<ResponsesTurn> = {
  parse: parseResponsesRequest,

  chatRequest: (turn) => turn.request,

  streamEncoder(turn, createdAtMs) {
    const events = new ResponsesStreamEncoder(
      newResponsesIdentity(turn.request.model, createdAtMs),
      turn.echo,
    );
    /**
     * response.created and response.in_progress. With buffer words they go out at once, with the
     * words. Without, the core calls `start` only once the first upstream event is in hand, so
     * they wait for the next frames and share their write: one write before the first token, as
     * on the chat door, not two.
     */
    let head = '';
    const withHead = (frames: string): string => {
      if (head === '') return frames;
      const out = head + frames;
      head = '';
      return out;
    };
    return {
      start(bufferWords) {
        if (bufferWords) return [events.start() + events.text(bufferWords)];
        head = events.start();
        return [];
      },
      encode: (event) => withHead(events.encode(event)) || undefined,
      end: () => [withHead(events.end())],
      // A failure after the 200 ends the response as `response.failed`, whose `error` says why.
      error: (err) => [withHead(events.error(err.toBody()))],
    };
  },

  replyBuilder(turn, createdAtMs) {
    const reply = new ResponsesAggregator(newResponsesIdentity(turn.request.model, createdAtMs), turn.echo);
    return { add: (event) => reply.add(event), body: () => reply.result() };
  },
};

export function createResponsesHandler(deps: TurnDeps) {
  return createTurnHandler(deps, responsesDoor);
}
