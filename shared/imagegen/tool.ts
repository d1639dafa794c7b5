// The `generate_image` tool inside a voice turn (the turn core's TurnLoop seam,
// shared/chat/turn-core.ts). When the turn names a session, the tool is offered to the model and
// the session's generations are noted on the latest user message. When the model calls the tool,
// the server answers it (estimate / confirm / status through the GenerationService), appends the
// call and its result, and calls the model again in the same turn: one client stream, one id, one
// role chunk, one finish, [DONE]. Text before the call streams at once.
//
// Mixed calls: when one response calls generate_image AND the agent's own tools, ours is handled
// (the generation is asked for, confirmed or read) but the model is not called again; the agent's
// calls are forwarded at the end with finish_reason "tool_calls", exactly as the model made them,
// so ElevenLabs runs them as it would have. The next turn's note tells the model what became of
// the generation. A model that keeps calling the tool stops after MAX_TOOL_ROUNDS continuations.
import { z } from 'zod';
import type { TurnLeg, TurnLoop } from '../chat/turn-core';
import { upstreamEvents } from '../chat/turn-core';
import { ApiError } from '../errors';
import type { Logger } from '../observability/log';
import type { ChatMessage, ChatRequest } from '../openai/schema';
import type { FinishReason, StreamEvent, Usage } from '../providers/types';
import { routeOffersImageTool } from '../routing/routes';
import { selectContextImages } from '../sessions/context-images';
import type { SessionStore } from '../sessions/store';
import { MAX_PROMPT_CHARS } from './api';
import { requesterKey } from './limits';
import type { GenerationRecord } from './records';
import type { GenerationService } from './service';

export const GENERATE_IMAGE_TOOL = 'generate_image';

/** Continuations one turn may make after answering the tool (a model looping on it is cut off). */
export const MAX_TOOL_ROUNDS = 3;

/** Generations the note lists (the newest). */
const NOTE_LIMIT = 5;

export const generateImageTool = {
  type: 'function' as const,
  function: {
    name: GENERATE_IMAGE_TOOL,
    description:
      'Create or edit an image for the user. The first call returns a price estimate: if it says confirmation is needed, tell the user the price and ask; when they agree, call again with confirm=true and the generation_id. Generating takes 5 to 60 seconds: the image appears in the conversation on a later turn. To check progress, call with only generation_id.',
    parameters: {
      type: 'object',
      properties: {
        prompt: { type: 'string', description: 'What to draw, in detail.' },
        quality: { type: 'string', enum: ['low', 'medium', 'high'] },
        aspect: { type: 'string', enum: ['square', 'landscape', 'portrait'] },
        style: { type: 'string', description: 'Optional style, e.g. "watercolor".' },
        edit_image_id: {
          type: 'string',
          description: 'An image of this conversation to edit (an id from the note), or "latest".',
        },
        generation_id: { type: 'string', description: 'A generation from an earlier call.' },
        confirm: { type: 'boolean', description: 'The user agreed to the estimated price.' },
      },
      additionalProperties: false,
    },
  },
};

const toolArgs = z.object({
  prompt: z.string().trim().max(MAX_PROMPT_CHARS).optional(),
  quality: z.enum(['low', 'medium', 'high']).optional(),
  aspect: z.enum(['square', 'landscape', 'portrait']).optional(),
  style: z.string().trim().max(200).optional(),
  edit_image_id: z.string().optional(),
  generation_id: z.string().optional(),
  confirm: z.boolean().optional(),
});

export interface ImageToolDeps {
  service: GenerationService;
  /** IMAGE_GENERATION: whether a route that does not say (`imageGeneration` in MODEL_ROUTES) offers the tool. */
  offeredByDefault: boolean;
  sessions: Pick<SessionStore, 'getSession' | 'listImages'>;
  log: Logger;
}

/** What the core tells the loop about the turn (its session, once the context resolved it). */
export interface TurnFactsForLoop {
  sessionId?: string;
}

interface TurnState {
  sessionId: string;
  user?: string;
}

interface Call {
  id: string;
  name: string;
  args: string;
  index: number;
}

const usd = (n: number) => (n < 0.1 ? `${Math.round(n * 1000) / 10} cents` : `$${n.toFixed(2)}`);

/** The short note of the session's generations the model reads each turn (pure). */
export function generationsNote(records: readonly GenerationRecord[]): string | undefined {
  if (records.length === 0) return undefined;
  const lines = records.slice(-NOTE_LIMIT).map((r) => {
    const what = `"${r.prompt.slice(0, 80)}${r.prompt.length > 80 ? '...' : ''}"`;
    switch (r.status) {
      case 'awaiting_confirmation':
        return `- ${r.generationId} ${what}: waiting for the user to confirm about ${usd(r.estimateUsd)}`;
      case 'queued':
      case 'running':
        return `- ${r.generationId} ${what}: still drawing`;
      case 'ready':
        return `- ${r.generationId} ${what}: ready, image ${r.imageId} (shown in this conversation)`;
      case 'failed':
        return `- ${r.generationId} ${what}: failed (${r.error?.code ?? 'error'}: ${r.error?.message ?? ''})`;
      default:
        return `- ${r.generationId} ${what}: ${r.status}`;
    }
  });
  return `[Image generations in this conversation]\n${lines.join('\n')}`;
}

/** Pure. The note appended to the latest user message: everything before it stays byte-identical. */
export function withNote(messages: readonly ChatMessage[], note: string): ChatMessage[] {
  const out = [...messages];
  for (let i = out.length - 1; i >= 0; i--) {
    const m = out[i]!;
    if (m.role !== 'user') continue;
    out[i] = {
      ...m,
      content:
        typeof m.content === 'string'
          ? [
              { type: 'text', text: m.content },
              { type: 'text', text: note },
            ]
          : [...m.content, { type: 'text', text: note }],
    };
    return out;
  }
  return out;
}

export function createImageToolLoop(deps: ImageToolDeps): TurnLoop {
  const states = new WeakMap<ChatRequest, TurnState>();

  async function answer(state: TurnState, argsText: string): Promise<Record<string, unknown>> {
    let parsed: z.infer<typeof toolArgs>;
    try {
      const json: unknown = argsText.trim() === '' ? {} : JSON.parse(argsText);
      const result = toolArgs.safeParse(json);
      if (!result.success) {
        const issue = result.error.issues[0]!;
        return {
          status: 'error',
          code: 'invalid_arguments',
          message: `${issue.path.join('.')}: ${issue.message}`,
        };
      }
      parsed = result.data;
    } catch {
      return { status: 'error', code: 'invalid_arguments', message: 'The arguments are not valid JSON.' };
    }
    try {
      const session = await deps.sessions.getSession(state.sessionId);
      if (!session)
        return {
          status: 'error',
          code: 'session_expired',
          message: 'This conversation has no live session.',
        };
      let record: GenerationRecord;
      if (parsed.generation_id) {
        record = parsed.confirm
          ? await deps.service.confirm(session.sessionId, parsed.generation_id)
          : await deps.service.get(session.sessionId, parsed.generation_id);
      } else {
        if (!parsed.prompt)
          return { status: 'error', code: 'invalid_arguments', message: 'prompt is required.' };
        let editImageId = parsed.edit_image_id;
        if (editImageId === 'latest') {
          const images = selectContextImages(await deps.sessions.listImages(session.sessionId));
          editImageId = images.at(-1)?.imageId;
          if (!editImageId)
            return { status: 'error', code: 'image_not_found', message: 'There is no image to edit.' };
        }
        record = await deps.service.ask({
          session,
          prompt: parsed.prompt,
          options: {
            quality: parsed.quality ?? 'medium',
            aspect: parsed.aspect ?? 'square',
            ...(parsed.style ? { style: parsed.style } : {}),
            ...(editImageId ? { editImageId } : {}),
          },
          origin: 'voice',
          requester: requesterKey({
            ...(session.ownerSub ? { ownerSub: session.ownerSub } : {}),
            ...(state.user ? { elevenLabsUser: state.user } : {}),
            sessionId: session.sessionId,
          }),
        });
      }
      return describe(record);
    } catch (err) {
      if (err instanceof ApiError)
        return {
          status: 'refused',
          code: err.code,
          message: err.message,
          say: 'Tell the user briefly why no image can be made now.',
        };
      deps.log.error('generate_image tool failed', { error: err });
      return { status: 'error', code: 'internal_error', message: 'The image could not be requested.' };
    }
  }

  return {
    async begin(request, route, turn: TurnFactsForLoop) {
      // Images live in a session: a turn without one is not offered the tool; nor is a route that says no.
      if (!turn.sessionId || !routeOffersImageTool(route, deps.offeredByDefault)) return request;
      let note: string | undefined;
      try {
        note = generationsNote(await deps.service.list(turn.sessionId));
      } catch (err) {
        deps.log.warn('could not read the session generations for the note', { error: err });
      }
      const next: ChatRequest = {
        ...request,
        tools: [...(request.tools ?? []), generateImageTool],
        ...(note ? { messages: withNote(request.messages, note) } : {}),
      };
      states.set(next, { sessionId: turn.sessionId, ...(request.user ? { user: request.user } : {}) });
      return next;
    },

    async *events(leg: TurnLeg): AsyncIterable<StreamEvent> {
      const state = states.get(leg.request);
      if (!state) {
        yield* upstreamEvents(leg.upstream, leg.idleTimeoutMs);
        return;
      }
      let usage: Usage | undefined;
      let request = leg.request;
      let upstream = leg.upstream;
      for (let round = 0; ; round++) {
        const ours: Call[] = [];
        const theirs: StreamEvent[] = [];
        const byIndex = new Map<number, Call | 'theirs'>();
        let finish: FinishReason | undefined;
        let text = '';
        for await (const event of upstreamEvents(upstream, leg.idleTimeoutMs)) {
          switch (event.type) {
            case 'text':
              text += event.text;
              yield event;
              break;
            case 'reasoning':
              yield event;
              break;
            case 'tool_call': {
              let owner = byIndex.get(event.index);
              if (owner === undefined) {
                owner =
                  event.name === GENERATE_IMAGE_TOOL
                    ? {
                        id: event.id ?? `call_${event.index}`,
                        name: event.name,
                        args: '',
                        index: event.index,
                      }
                    : 'theirs';
                byIndex.set(event.index, owner);
                if (owner !== 'theirs') ours.push(owner);
              }
              if (owner === 'theirs') theirs.push(event);
              else if (event.arguments) owner.args += event.arguments;
              break;
            }
            case 'finish':
              finish = event.reason;
              break;
            case 'usage':
              usage = addUsage(usage, event.usage);
              break;
          }
        }
        const answers = await Promise.all(ours.map((c) => answer(state, c.args)));
        for (const i of ours.keys())
          deps.log.info('generate_image answered', {
            round,
            status: answers[i]!.status,
            code: answers[i]!.code,
          });
        if (ours.length === 0 || theirs.length > 0 || round >= MAX_TOOL_ROUNDS) {
          // Theirs go out as the model made them, renumbered without ours in between.
          const indices = [...new Set(theirs.map((e) => (e.type === 'tool_call' ? e.index : 0)))];
          for (const e of theirs) if (e.type === 'tool_call') yield { ...e, index: indices.indexOf(e.index) };
          yield {
            type: 'finish',
            reason: theirs.length > 0 ? 'tool_calls' : ours.length > 0 ? 'stop' : (finish ?? 'stop'),
          };
          if (usage) yield { type: 'usage', usage };
          return;
        }
        request = {
          ...request,
          messages: [
            ...request.messages,
            {
              role: 'assistant',
              content: text === '' ? null : text,
              tool_calls: ours.map((c) => ({
                id: c.id,
                type: 'function' as const,
                function: { name: c.name, arguments: c.args },
              })),
            },
            ...ours.map((c, i) => ({
              role: 'tool' as const,
              tool_call_id: c.id,
              content: JSON.stringify(answers[i]),
            })),
          ],
        };
        upstream = await leg.next(request);
      }
    },
  };
}

function addUsage(a: Usage | undefined, b: Usage): Usage {
  if (!a) return b;
  const cached = (a.cached_tokens ?? 0) + (b.cached_tokens ?? 0);
  return {
    prompt_tokens: a.prompt_tokens + b.prompt_tokens,
    completion_tokens: a.completion_tokens + b.completion_tokens,
    total_tokens: a.total_tokens + b.total_tokens,
    ...(cached > 0 ? { cached_tokens: cached } : {}),
  };
}

/** What the model reads as the tool's result: the state, and what to tell the user. */
export function describe(r: GenerationRecord): Record<string, unknown> {
  const base = { generation_id: r.generationId, status: r.status };
  const model = `${r.chosen.model} (${r.chosen.provider})`;
  switch (r.status) {
    case 'awaiting_confirmation':
      return {
        ...base,
        estimate_usd: r.estimateUsd,
        model,
        alternatives: r.alternatives.map((a) => ({ model: `${a.model} (${a.provider})`, usd: a.priceUsd })),
        say: `Ask the user to confirm: it costs about ${usd(r.estimateUsd)} with ${r.chosen.model}. If they agree, call generate_image with confirm=true and generation_id="${r.generationId}".`,
      };
    case 'queued':
    case 'running':
      return {
        ...base,
        estimate_usd: r.estimateUsd,
        model,
        say: 'Tell the user you are drawing it now; it takes about 20 seconds and will show up in the conversation.',
      };
    case 'ready':
      return {
        ...base,
        image_id: r.imageId,
        cost_usd: r.costUsd,
        say: 'The image is ready and in the conversation.',
      };
    case 'failed':
      return {
        ...base,
        code: r.error?.code,
        message: r.error?.message,
        say:
          r.error?.code === 'refused'
            ? 'The image provider refused this request; tell the user and suggest a different description.'
            : 'Tell the user it failed and offer to try again.',
      };
    default:
      return { ...base, say: `This generation is ${r.status.replace('_', ' ')}.` };
  }
}
