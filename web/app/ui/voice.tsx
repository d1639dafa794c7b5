// The conversation: voice start/stop through @elevenlabs/react (microphone permission asked
// first), connection status, the live transcript, and typed messages. Without an agent (local
// development with no ElevenLabs key), typed messages go straight to the chat endpoint.
import { useConversation } from '@elevenlabs/react';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { VisionSession } from '../../client';
import { type ChatMessage, streamChat } from './chat-stream';
import { describeError, describeMediaError } from './errors';

interface Line {
  id: number;
  role: 'user' | 'agent';
  text: string;
}

/** The SDK's audio worklets, served by this origin: the CSP then needs no blob: or data: scripts. */
const WORKLET_PATHS = {
  rawAudioProcessor: '/worklets/rawAudioProcessor.js',
  audioConcatProcessor: '/worklets/audioConcatProcessor.js',
};

let lineIds = 0;

export function Voice(props: { session: VisionSession | null; onTurnDone: () => void }) {
  const { session, onTurnDone } = props;
  const [lines, setLines] = useState<Line[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  const [draft, setDraft] = useState('');
  const [busy, setBusy] = useState(false);
  const transcript = useRef<HTMLOListElement>(null);

  const say = useCallback((role: Line['role'], text: string): number => {
    lineIds += 1;
    const id = lineIds;
    setLines((l) => [...l, { id, role, text }]);
    return id;
  }, []);

  const conversation = useConversation({
    onMessage: ({ message, role }) => {
      say(role === 'user' ? 'user' : 'agent', message);
      if (role !== 'user') onTurnDone();
    },
    onError: (message) => setProblem(`The conversation failed: ${message}`),
    onConnect: ({ conversationId }) => {
      // A second way for turns to find this session (the extra body is the first).
      session?.linkConversation(conversationId).catch(() => undefined);
    },
  });
  const { status, endSession } = conversation;
  const agent = session?.elevenLabs ?? null;
  const connected = status === 'connected';

  const start = useCallback(async () => {
    if (!session?.elevenLabs?.signedUrl) return;
    setProblem(null);
    // Ask first, so a refusal is our clear message, not a failed connection.
    try {
      const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
      for (const t of mic.getTracks()) t.stop();
    } catch (err) {
      setProblem(describeMediaError(err, 'microphone'));
      return;
    }
    conversation.startSession({
      signedUrl: session.elevenLabs.signedUrl,
      connectionType: 'websocket',
      customLlmExtraBody: session.customLlmExtraBody,
      dynamicVariables: { session_id: session.id },
      workletPaths: WORKLET_PATHS,
    });
  }, [session, conversation]);

  // Leaving the page (or this view) ends the call: no microphone left open, no orphan conversation.
  useEffect(() => {
    const leave = () => endSession();
    window.addEventListener('pagehide', leave);
    return () => {
      window.removeEventListener('pagehide', leave);
      endSession();
    };
  }, [endSession]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll to the newest line whenever lines change
  useEffect(() => {
    const list = transcript.current;
    if (list) list.scrollTop = list.scrollHeight;
  }, [lines]);

  const send = async () => {
    const text = draft.trim();
    if (!text || !session) return;
    setDraft('');
    setProblem(null);
    if (connected) {
      say('user', text);
      conversation.sendUserMessage(text);
      return;
    }
    if (agent) {
      setProblem('Start the conversation to send messages to the agent.');
      setDraft(text);
      return;
    }
    const history: ChatMessage[] = [
      ...lines.map((l): ChatMessage => ({ role: l.role === 'user' ? 'user' : 'assistant', content: l.text })),
      { role: 'user', content: text },
    ];
    say('user', text);
    const id = say('agent', '');
    setBusy(true);
    try {
      await streamChat(history, session.id, (soFar) =>
        setLines((l) => l.map((x) => (x.id === id ? { ...x, text: soFar } : x))),
      );
      onTurnDone();
    } catch (err) {
      setProblem(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  const statusText = !agent
    ? 'Text only: no ElevenLabs agent is configured on this server'
    : { connected: 'Connected', connecting: 'Connecting…', disconnected: 'Not connected', error: 'Error' }[
        status
      ];

  return (
    <section className="panel conversation" aria-labelledby="conversation-title">
      <h2 id="conversation-title">Conversation</h2>
      <div className="row">
        {agent &&
          (connected || status === 'connecting' ? (
            <button type="button" className="primary" onClick={() => endSession()}>
              Stop conversation
            </button>
          ) : (
            <button type="button" className="primary" onClick={() => void start()} disabled={!session}>
              Start conversation
            </button>
          ))}
        <span className={`status status-${agent ? status : 'text'}`} role="status" data-status={status}>
          {statusText}
          {connected && ` · agent ${conversation.isSpeaking ? 'speaking' : 'listening'}`}
        </span>
      </div>
      {problem && (
        <p className="problem" role="alert">
          {problem}
        </p>
      )}
      {/* Focusable so a keyboard can scroll a long transcript. */}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard (WCAG 2.1.1) */}
      <ol className="transcript" ref={transcript} aria-label="Transcript" aria-live="polite" tabIndex={0}>
        {lines.map((l) => (
          <li key={l.id} className={`line ${l.role}`}>
            <span className="who">{l.role === 'user' ? 'You' : 'Agent'}</span> {l.text}
          </li>
        ))}
      </ol>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <label htmlFor="message" className="visually-hidden">
          Message
        </label>
        <input
          id="message"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          placeholder="Type a message"
          autoComplete="off"
        />
        <button type="submit" disabled={busy || !session}>
          Send
        </button>
      </form>
    </section>
  );
}
