// A fake ElevenLabs Conversational AI websocket on loopback, speaking the real protocol (message
// shapes from @elevenlabs/types): the browser SDK connects through a signed URL, and every user
// message becomes a custom LLM turn against the product's /chat/completions, sent as ElevenLabs
// sends it (stream, max_tokens -1, user_id, system tools, elevenlabs_extra_body).
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type {
  AgentResponse,
  Audio,
  ContextualUpdate,
  ConversationInitiation,
  ConversationMetadata,
  Ping,
  Pong,
  UserActivity,
  UserAudio,
  UserMessage,
  UserTranscript,
} from '@elevenlabs/types';
import { type WebSocket, WebSocketServer } from 'ws';
import { sseEvents } from '../helpers/chat-server';

/** What the page sends (Outgoing in @elevenlabs/types is from the client's point of view). */
type ClientEvent = ConversationInitiation | UserMessage | UserAudio | Pong | UserActivity | ContextualUpdate;

type ServerEvent = ConversationMetadata | AgentResponse | Audio | Ping | UserTranscript;

export const CONVERSATION_PATH = '/v1/convai/conversation';

/** ElevenLabs' system tools, as the agent puts them in `tools` (here: end_call only). */
export const END_CALL_TOOL = {
  type: 'function' as const,
  function: {
    name: 'end_call',
    description: 'Ends the call when the user says goodbye.',
    parameters: { type: 'object', properties: { reason: { type: 'string' } }, required: ['reason'] },
  },
};

export interface ConversationTurn {
  conversationId: string;
  text: string;
  /** The body sent to /chat/completions. */
  request: Record<string, unknown>;
  status: number;
  answer: string;
}

export interface ConversationRecord {
  conversationId: string;
  signature: string | null;
  initiation?: ConversationInitiation;
  audioBytes: number;
  pongs: number;
  closed: boolean;
}

export interface FakeConversationServer {
  /** ws://127.0.0.1:port (what a signed URL points at). */
  url: string;
  /** A signed URL as get-signed-url returns it. */
  signedUrl(agentId: string, signature: string): string;
  conversations: ConversationRecord[];
  turns: ConversationTurn[];
  close(): Promise<void>;
}

export interface FakeConversationOptions {
  /** The agent's custom LLM "Server URL" (ElevenLabs appends /chat/completions); read per turn, as the product may start after this fake. */
  llmUrl: string | (() => string);
  llmApiKey?: string;
  systemPrompt?: string;
  firstMessage?: string;
  /** Signatures get-signed-url issued; others are refused as the real service refuses them. */
  isValidSignature?: (signature: string) => boolean;
}

/** 100 ms of silence at 16 kHz, 16-bit PCM: the agent "speaking" its answer. */
const SILENCE = Buffer.alloc(3200).toString('base64');

/** The answer text of a streamed chat completion (the agent speaks it once it is complete). */
async function readAnswer(res: Response): Promise<string> {
  return sseEvents(await res.text())
    .map((e) => (typeof e === 'object' ? ((e as ChunkShape).choices?.[0]?.delta?.content ?? '') : ''))
    .join('');
}

type ChunkShape = { choices?: { delta?: { content?: string } }[] };

export async function startFakeConversationServer(
  opts: FakeConversationOptions,
): Promise<FakeConversationServer> {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    // The SDK asks for the `convai` subprotocol; a browser drops a socket whose server ignores it.
    handleProtocols: (protocols) => (protocols.has('convai') ? 'convai' : false),
  });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const conversations: ConversationRecord[] = [];
  const turns: ConversationTurn[] = [];
  let eventId = 0;

  wss.on('connection', (socket: WebSocket, req) => {
    const u = new URL(req.url ?? '/', url);
    const signature = u.searchParams.get('conversation_signature');
    if (u.pathname !== CONVERSATION_PATH || !signature || !(opts.isValidSignature?.(signature) ?? true)) {
      socket.close(1008, 'Invalid conversation signature');
      return;
    }
    const record: ConversationRecord = {
      conversationId: `conv_${randomUUID().replace(/-/g, '').slice(0, 20)}`,
      signature,
      audioBytes: 0,
      pongs: 0,
      closed: false,
    };
    conversations.push(record);
    const send = (event: ServerEvent) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(event));
    };
    const firstMessage = opts.firstMessage ?? 'Hello! Show me something and ask about it.';
    // The history ElevenLabs keeps and sends on every turn: the greeting arrives as an assistant message.
    const history: { role: 'user' | 'assistant'; content: string }[] = [
      { role: 'assistant', content: firstMessage },
    ];
    // One turn at a time, in order, as a conversation is.
    let queue = Promise.resolve();

    const speak = (text: string) => {
      eventId += 1;
      send({ type: 'agent_response', agent_response_event: { agent_response: text, event_id: eventId } });
      send({ type: 'audio', audio_event: { audio_base_64: SILENCE, event_id: eventId } });
    };

    const turn = async (text: string) => {
      const init = record.initiation;
      const request: Record<string, unknown> = {
        model: 'gpt-4o',
        messages: [
          { role: 'system', content: opts.systemPrompt ?? 'You are a helpful agent that can see.' },
          ...history,
        ],
        stream: true,
        max_tokens: -1,
        temperature: 0.5,
        tools: [END_CALL_TOOL],
        ...(init?.user_id ? { user_id: init.user_id } : {}),
        ...(init?.custom_llm_extra_body ? { elevenlabs_extra_body: init.custom_llm_extra_body } : {}),
      };
      let status = 0;
      let answer = '';
      try {
        const llmUrl = typeof opts.llmUrl === 'string' ? opts.llmUrl : opts.llmUrl();
        const res = await fetch(`${llmUrl.replace(/\/+$/, '')}/chat/completions`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(opts.llmApiKey ? { authorization: `Bearer ${opts.llmApiKey}` } : {}),
          },
          body: JSON.stringify(request),
        });
        status = res.status;
        answer = res.ok ? await readAnswer(res) : '';
      } catch {
        status = -1;
      }
      turns.push({ conversationId: record.conversationId, text, request, status, answer });
      // ElevenLabs speaks a fixed apology when the custom LLM fails; the answer goes into history.
      const said = answer || "Sorry, I couldn't answer that.";
      history.push({ role: 'assistant', content: said });
      speak(said);
    };

    socket.on('message', (data) => {
      let event: ClientEvent;
      try {
        event = JSON.parse(String(data)) as ClientEvent;
      } catch {
        socket.close(1003, 'Invalid JSON');
        return;
      }
      if ('user_audio_chunk' in event) {
        record.audioBytes += Buffer.from(event.user_audio_chunk, 'base64').length;
        return;
      }
      switch (event.type) {
        case 'conversation_initiation_client_data':
          record.initiation = event;
          send({
            type: 'conversation_initiation_metadata',
            conversation_initiation_metadata_event: {
              conversation_id: record.conversationId,
              agent_output_audio_format: 'pcm_16000',
              user_input_audio_format: 'pcm_16000',
            },
          });
          eventId += 1;
          send({ type: 'ping', ping_event: { event_id: eventId, ping_ms: 0 } });
          speak(firstMessage);
          return;
        case 'user_message': {
          const text = event.text ?? '';
          history.push({ role: 'user', content: text });
          queue = queue.then(() => turn(text));
          return;
        }
        case 'pong':
          record.pongs += 1;
          return;
        case 'user_activity':
        case 'contextual_update':
          return;
      }
    });
    socket.on('close', () => {
      record.closed = true;
    });
  });

  return {
    url,
    signedUrl: (agentId, signature) =>
      `${url}${CONVERSATION_PATH}?agent_id=${encodeURIComponent(agentId)}&conversation_signature=${signature}`,
    conversations,
    turns,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}
