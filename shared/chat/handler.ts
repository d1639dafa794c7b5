// The Chat Completions door (`POST /v1/chat/completions`): OpenAI's chat request in, and out
// `chat.completion.chunk` SSE ending in [DONE], or one `chat.completion`. The turn itself (auth,
// routing, images, failover, barge-in, accounting) is the door-neutral core in turn-core.ts.

import { ChunkEncoder, CompletionAggregator, newResponseIdentity } from '../openai/chunks';
import type { ChatRequest } from '../openai/schema';
import { SSE_DONE, sseData, sseError } from '../openai/sse';
import { parseChatRequest } from './parse';
import { createTurnHandler, type TurnDeps, type TurnDoor } from './turn-core';

export type ChatDeps = TurnDeps;

const CHAT_PATHS = new Set(['/v1/chat/completions', '/chat/completions']);

export function isChatPath(path: string): boolean {
  return CHAT_PATHS.has(path.replace(/\/+$/, ''));
}

export const chatCompletionsDoor: TurnDoor<ChatRequest> = {
  parse: parseChatRequest,
  chatRequest: (request) => request,

  streamEncoder(request, createdAtMs) {
    const chunks = new ChunkEncoder(
      newResponseIdentity(request.model, createdAtMs),
      request.stream_options?.include_usage === true,
    );
    return {
      start: (bufferWords) => (bufferWords ? [sseData(chunks.text(bufferWords))] : []),
      encode(event) {
        const chunk = chunks.encode(event);
        return chunk ? sseData(chunk) : undefined;
      },
      end: () => [...chunks.end().map(sseData), SSE_DONE],
      // OpenAI's streams end on an error object without [DONE]; its clients raise it.
      error: (err) => [sseError(err.toBody())],
    };
  },

  replyBuilder(request, createdAtMs) {
    const identity = newResponseIdentity(request.model, createdAtMs);
    const aggregate = new CompletionAggregator();
    return { add: (event) => aggregate.add(event), body: () => aggregate.result(identity) };
  },
};

export function createChatHandler(deps: ChatDeps) {
  return createTurnHandler(deps, chatCompletionsDoor);
}
