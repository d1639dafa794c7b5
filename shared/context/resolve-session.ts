// Which session a chat turn belongs to. First match wins, in this documented order:
//   1. elevenlabs_extra_body.session_id   (the browser's customLlmExtraBody at startSession)
//   2. header x-session-id                (an agent request header)
//   3. header x-conversation-id           (dynamic variable {{system__conversation_id}}) -> link
//   4. a [session:<id>] marker in the system prompt
//   5. a [conversation:<id>] marker in the system prompt -> link
// A conversation id only finds a session the browser linked with POST /sessions/{id}/link.

import { type ChatRequest, contentText } from '../openai/schema';
import { isConversationId, isSessionId } from '../sessions/ids';

export type SessionRef =
  | { kind: 'session'; id: string; source: string }
  | { kind: 'conversation'; id: string; source: string };

const SESSION_MARKER = /\[session:\s*([A-Za-z0-9_-]+)\s*\]/;
const CONVERSATION_MARKER = /\[conversation:\s*([A-Za-z0-9_-]+)\s*\]/;

function systemPrompt(req: ChatRequest): string {
  return req.messages
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => contentText(m.content))
    .join('\n');
}

/** Pure: finds the reference; ids of the wrong shape are ignored, never looked up. */
export function findSessionRef(
  req: ChatRequest,
  headers: Readonly<Record<string, string>>,
): SessionRef | undefined {
  const fromBody = req.elevenlabs_extra_body?.session_id;
  if (typeof fromBody === 'string' && isSessionId(fromBody)) {
    return { kind: 'session', id: fromBody, source: 'extra_body' };
  }
  const sessionHeader = headers['x-session-id']?.trim();
  if (sessionHeader && isSessionId(sessionHeader))
    return { kind: 'session', id: sessionHeader, source: 'header' };
  const conversationHeader = headers['x-conversation-id']?.trim();
  if (conversationHeader && isConversationId(conversationHeader)) {
    return { kind: 'conversation', id: conversationHeader, source: 'header' };
  }
  const prompt = systemPrompt(req);
  const session = SESSION_MARKER.exec(prompt)?.[1];
  if (session && isSessionId(session)) return { kind: 'session', id: session, source: 'prompt' };
  const conversation = CONVERSATION_MARKER.exec(prompt)?.[1];
  if (conversation && isConversationId(conversation)) {
    return { kind: 'conversation', id: conversation, source: 'prompt' };
  }
  return undefined;
}

/**
 * The key that names a turn's conversation for "one live turn per conversation": the session or
 * conversation id the turn carries, as findSessionRef finds it (no lookup), or none.
 */
export function conversationKey(
  req: ChatRequest,
  headers: Readonly<Record<string, string>>,
): string | undefined {
  const ref = findSessionRef(req, headers);
  return ref ? `${ref.kind}#${ref.id}` : undefined;
}
