// The browser's door to image generation (sessions function; same auth as the rest of the
// browser API: allowed origin, JWT in jwt mode, the session secret): ask for an image (answered
// with the estimate, or started when under the auto-approve amount), confirm, read (with a
// presigned URL of the image when ready), cancel.
import { z } from 'zod';
import type { BrowserGuard } from '../auth/browser-guard';
import type { Caller } from '../auth/types';
import type { Router } from '../http/router';
import { type HttpRequest, type HttpResponse, jsonResponse } from '../http/types';
import type { Logger } from '../observability/log';
import { isGenerationId } from '../sessions/ids';
import { parseJsonBody } from '../sessions/request-body';
import type { SessionStore } from '../sessions/store';
import type { StorageFaultBoundary } from '../storage/fault-boundary';
import { invalidGenerationId } from './errors';
import { requesterKey } from './limits';
import type { GenerationRecord } from './records';
import type { GenerationService } from './service';
import { publicGeneration } from './views';

export interface GenerationRoutesDeps {
  guard: BrowserGuard;
  service: GenerationService;
  store: Pick<SessionStore, 'getImage'>;
  /** Presigned GET URL of an object in the images bucket. */
  presignGet: (key: string) => Promise<string>;
  storageFaults: StorageFaultBoundary;
  log: Logger;
}

export const MAX_PROMPT_CHARS = 4000;

/** The request both doors accept (the tool's arguments are the same fields). */
export const generationAskBody = z.object({
  prompt: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(MAX_PROMPT_CHARS, `must be at most ${MAX_PROMPT_CHARS} characters`),
  quality: z.enum(['low', 'medium', 'high']).default('medium'),
  aspect: z.enum(['square', 'landscape', 'portrait']).default('square'),
  style: z.string().trim().max(200, 'must be at most 200 characters').optional(),
  editImageId: z.string().optional(),
});

const MAX_BODY_BYTES = 16 * 1024;
const NO_STORE = { 'cache-control': 'no-store' } as const;

function requesterOf(caller: Caller, ownerSub: string | undefined, sessionId: string): string {
  return requesterKey({
    ...(ownerSub ? { ownerSub } : caller.kind === 'user' ? { ownerSub: caller.sub } : {}),
    ip: caller.ip,
    sessionId,
  });
}

export function createGenerationRoutes(router: Router, deps: GenerationRoutesDeps): Router {
  const { guard, service, storageFaults } = deps;

  async function view(record: GenerationRecord, status = 200): Promise<HttpResponse> {
    let imageUrl: string | undefined;
    if (record.status === 'ready' && record.imageId) {
      const image = await deps.store.getImage(record.sessionId, record.imageId);
      const key = image?.originalKey ?? image?.key;
      if (key) imageUrl = await deps.presignGet(key);
    }
    return jsonResponse(status, publicGeneration(record, imageUrl), NO_STORE);
  }

  const checkId = (params: Record<string, string>) => {
    // Before any I/O: a malformed id never reaches a key.
    if (!isGenerationId(params.generationId!)) throw invalidGenerationId();
    return params.generationId!;
  };

  async function ask(req: HttpRequest, params: Record<string, string>): Promise<HttpResponse> {
    const { caller, session } = await guard.admitToSession(req, params.sessionId!, 'create_image');
    const body = parseJsonBody(req, generationAskBody, { maxBytes: MAX_BODY_BYTES });
    const record = await service.ask({
      session,
      prompt: body.prompt,
      options: {
        quality: body.quality,
        aspect: body.aspect,
        ...(body.style ? { style: body.style } : {}),
        ...(body.editImageId ? { editImageId: body.editImageId } : {}),
      },
      origin: 'browser',
      requester: requesterOf(caller, session.ownerSub, session.sessionId),
    });
    return view(record, 201);
  }

  async function confirm(req: HttpRequest, params: Record<string, string>): Promise<HttpResponse> {
    const generationId = checkId(params);
    const { session } = await guard.admitToSession(req, params.sessionId!, 'session_call');
    return view(await service.confirm(session.sessionId, generationId));
  }

  async function get(req: HttpRequest, params: Record<string, string>): Promise<HttpResponse> {
    const generationId = checkId(params);
    const { session } = await guard.admitToSession(req, params.sessionId!, 'session_call');
    return view(await service.get(session.sessionId, generationId));
  }

  async function cancel(req: HttpRequest, params: Record<string, string>): Promise<HttpResponse> {
    const generationId = checkId(params);
    const { session } = await guard.admitToSession(req, params.sessionId!, 'session_call');
    return view(await service.cancel(session.sessionId, generationId));
  }

  return router
    .on('POST', '/sessions/:sessionId/generations', (req, params) =>
      storageFaults.run('POST /sessions/{id}/generations', () => ask(req, params)),
    )
    .on('POST', '/sessions/:sessionId/generations/:generationId/confirm', (req, params) =>
      storageFaults.run('POST /sessions/{id}/generations/{gid}/confirm', () => confirm(req, params)),
    )
    .on('GET', '/sessions/:sessionId/generations/:generationId', (req, params) =>
      storageFaults.run('GET /sessions/{id}/generations/{gid}', () => get(req, params)),
    )
    .on('DELETE', '/sessions/:sessionId/generations/:generationId', (req, params) =>
      storageFaults.run('DELETE /sessions/{id}/generations/{gid}', () => cancel(req, params)),
    );
}
