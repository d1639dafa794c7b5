// The sessions API browsers call: create a session (with ElevenLabs credentials), read it, link
// an ElevenLabs conversation to it, delete it. Host-neutral: mounted on a Router by the Lambda
// entry and by the local dev server.
import { z } from 'zod';
import { ownerOf } from '../auth/types';
import type { Router } from '../http/router';
import { type HttpRequest, type HttpResponse, jsonResponse } from '../http/types';
import type { PublicGeneration } from '../imagegen/views';
import { invalidConversationId } from '../sessions/errors';
import { isConversationId } from '../sessions/ids';
import { parseJsonBody } from '../sessions/request-body';
import { publicSession } from '../sessions/views';
import type { BrowserApiDeps } from './deps';

export type SessionsRoutesDeps = Pick<
  BrowserApiDeps,
  'config' | 'store' | 'guard' | 'elevenLabs' | 'storageFaults' | 'log' | 'budget'
>;

/** How the browser will connect to the agent: WebRTC (token, the SDK default) or websocket (signed URL). */
const createSessionBody = z.object({
  connection: z.enum(['webrtc', 'websocket', 'both']).default('webrtc'),
});

const linkBody = z.object({ conversationId: z.string() });

/** Small JSON bodies only; images go to the uploads API. */
const MAX_BODY_BYTES = 16 * 1024;

/** Responses carry secrets and one-time credentials: nothing may cache them. */
const NO_STORE = { 'cache-control': 'no-store' } as const;

export interface ElevenLabsCredentials {
  agentId: string;
  signedUrl?: string;
  conversationToken?: string;
  /** Pass as `customLlmExtraBody` to `startSession(...)`: it is how chat turns find this session. */
  customLlmExtraBody: { session_id: string };
}

async function elevenLabsCredentials(
  deps: SessionsRoutesDeps,
  connection: 'webrtc' | 'websocket' | 'both',
  signal: AbortSignal,
): Promise<Omit<ElevenLabsCredentials, 'customLlmExtraBody'> | null> {
  const el = deps.elevenLabs;
  if (!el) return null;
  const [conversationToken, signedUrl] = await Promise.all([
    connection !== 'websocket' ? el.client.getConversationToken(el.agentId, signal) : undefined,
    connection !== 'webrtc' ? el.client.getSignedUrl(el.agentId, signal) : undefined,
  ]);
  return {
    agentId: el.agentId,
    ...(signedUrl !== undefined ? { signedUrl } : {}),
    ...(conversationToken !== undefined ? { conversationToken } : {}),
  };
}

export interface SessionsRoutesOptions {
  /** Image generation enabled: `GET /sessions/{id}` lists the session's generations too. */
  listGenerations?: (sessionId: string) => Promise<PublicGeneration[]>;
}

export function createSessionsRoutes(
  router: Router,
  deps: SessionsRoutesDeps,
  opts: SessionsRoutesOptions = {},
): Router {
  const { config, store, guard, log, storageFaults } = deps;

  async function createSession(req: HttpRequest, signal: AbortSignal): Promise<HttpResponse> {
    const caller = await guard.admit(req, 'create_session');
    const body = parseJsonBody(req, createSessionBody, { maxBytes: MAX_BODY_BYTES, emptyAs: {} });
    const ownerSub = ownerOf(caller);
    // Both round trips at once: the ElevenLabs call dominates the latency of this endpoint.
    const [created, credentials] = await Promise.allSettled([
      store.createSession({
        ttlSeconds: config.sessionTtlSeconds,
        ...(ownerSub !== undefined ? { ownerSub } : {}),
      }),
      elevenLabsCredentials(deps, body.connection, signal),
    ]);
    if (created.status === 'rejected') throw created.reason;
    const { sessionId } = created.value;
    if (credentials.status === 'rejected') {
      // A session the browser cannot start a conversation with is only clutter.
      await store
        .deleteSession(sessionId)
        .catch((cleanupErr: unknown) =>
          log.warn('could not remove a session after ElevenLabs failed', { sessionId, error: cleanupErr }),
        );
      throw credentials.reason;
    }
    const elevenLabs: ElevenLabsCredentials | null = credentials.value
      ? { ...credentials.value, customLlmExtraBody: { session_id: sessionId } }
      : null;
    return jsonResponse(
      201,
      {
        sessionId,
        sessionSecret: created.value.secret,
        expiresAt: new Date(created.value.expiresAt).toISOString(),
        uploadUrl: `${config.uploadsUrl ?? ''}/sessions/${sessionId}/images`,
        elevenLabs,
      },
      NO_STORE,
    );
  }

  async function getSession(req: HttpRequest, params: Record<string, string>): Promise<HttpResponse> {
    const { session } = await guard.admitToSession(req, params.sessionId!, 'session_call');
    const [images, generations] = await Promise.all([
      store.listImages(session.sessionId),
      opts.listGenerations?.(session.sessionId),
    ]);
    return jsonResponse(
      200,
      { ...publicSession(session, images), ...(generations ? { generations } : {}) },
      NO_STORE,
    );
  }

  /** Tokens and estimated cost so far; `available: false` when the counters could not be read. */
  async function getUsage(req: HttpRequest, params: Record<string, string>): Promise<HttpResponse> {
    const { session } = await guard.admitToSession(req, params.sessionId!, 'session_call');
    const used = await deps.budget.usage(session.sessionId);
    return jsonResponse(
      200,
      used
        ? { available: true, tokensIn: used.tokensIn, tokensOut: used.tokensOut, costUsd: used.costUsd }
        : { available: false, tokensIn: 0, tokensOut: 0, costUsd: 0 },
      NO_STORE,
    );
  }

  async function linkConversation(req: HttpRequest, params: Record<string, string>): Promise<HttpResponse> {
    const { session } = await guard.admitToSession(req, params.sessionId!, 'session_call');
    const { conversationId } = parseJsonBody(req, linkBody, { maxBytes: MAX_BODY_BYTES });
    if (!isConversationId(conversationId)) throw invalidConversationId();
    await store.linkConversation(session.sessionId, conversationId);
    return jsonResponse(200, { sessionId: session.sessionId, conversationId }, NO_STORE);
  }

  async function deleteSession(req: HttpRequest, params: Record<string, string>): Promise<HttpResponse> {
    // Expired sessions may still be deleted: their images should not wait for the TTL sweeper.
    const { session } = await guard.admitToSession(req, params.sessionId!, 'session_call', {
      allowExpired: true,
    });
    await store.deleteSession(session.sessionId);
    return { status: 204, headers: { ...NO_STORE }, body: '' };
  }

  return router
    .on('POST', '/sessions', (req, _params, signal) =>
      storageFaults.run('POST /sessions', () => createSession(req, signal)),
    )
    .on('GET', '/sessions/:sessionId', (req, params) =>
      storageFaults.run('GET /sessions/{id}', () => getSession(req, params)),
    )
    .on('DELETE', '/sessions/:sessionId', (req, params) =>
      storageFaults.run('DELETE /sessions/{id}', () => deleteSession(req, params)),
    )
    .on('GET', '/sessions/:sessionId/usage', (req, params) =>
      storageFaults.run('GET /sessions/{id}/usage', () => getUsage(req, params)),
    )
    .on('POST', '/sessions/:sessionId/link', (req, params) =>
      storageFaults.run('POST /sessions/{id}/link', () => linkConversation(req, params)),
    );
}
