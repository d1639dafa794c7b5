// The Responses door (`POST /v1/responses`, `POST /responses`): OpenAI's Responses request in,
// and out named `response.*` SSE events ending in response.completed, or one `response` object.
// The turn itself is the door-neutral core (shared/chat/turn-core.ts), as for chat completions.
import { createTurnHandler, type TurnDeps, type TurnDoor } from '../chat/turn-core';
import type { ChatRequest } from '../openai/schema';
import { newResponsesIdentity, ResponsesAggregator, ResponsesStreamEncoder } from './events';
import { parseResponsesRequest, type ResponsesEcho } from './request';

/**
 * What each parsed request echoes back, keyed by the object `parse` returned (the core hands it
 * back as `parsed`). Weak: an entry lives exactly as long as its turn's request.
 */
const echoes = new WeakMap<ChatRequest, ResponsesEcho>();

/** Only reachable if the core handed back an object this door did not parse: echo the request. */
function echoOf(parsed: ChatRequest): ResponsesEcho {
  return (
    echoes.get(parsed) ?? {
      instructions: null,
      metadata: {},
      tools: [],
      toolChoice: 'auto',
      temperature: parsed.temperature ?? null,
      topP: parsed.top_p ?? null,
      maxOutputTokens: parsed.max_completion_tokens ?? null,
      parallelToolCalls: parsed.parallel_tool_calls ?? true,
      user: parsed.user ?? undefined,
    }
  );
}

export const responsesDoor: TurnDoor = {
  parse(body) {
    const { request, echo } = parseResponsesRequest(body);
    echoes.set(request, echo);
    return request;
  },

  streamEncoder(request, createdAtMs, parsed) {
    const events = new ResponsesStreamEncoder(
      newResponsesIdentity(request.model, createdAtMs),
      echoOf(parsed),
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

  replyBuilder(request, createdAtMs, parsed) {
    const reply = new ResponsesAggregator(newResponsesIdentity(request.model, createdAtMs), echoOf(parsed));
    return { add: (event) => reply.add(event), body: () => reply.result() };
  },
};

export function createResponsesHandler(deps: TurnDeps) {
  return createTurnHandler(deps, responsesDoor);
}
