// The turn core's port for a turn's context: the conversation's images (shared/context), attached
// before routing; the core works the same without one.
import type { HttpRequest } from '../http/types';
import type { ChatRequest } from '../openai/schema';
import type { RouteTarget } from '../routing/routes';

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
    /** Per-target delivery of the images (inline or URL), applied to each attempt's request. */
    prepare?: (t: RouteTarget, r: ChatRequest) => Promise<ChatRequest>;
  }>;
}
