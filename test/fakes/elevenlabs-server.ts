// A fake of the two ElevenLabs endpoints our server calls to let a browser start a private
// agent conversation: it checks `xi-api-key` and `agent_id` as the real API does and answers in
// its wire shape. One-shot failures (401, 404, 500, hangs) can be queued like any scripted server.
// With `conversation`, signed URLs point at a fake conversation websocket (elevenlabs-conversation.ts).
import {
  type FakeConversationOptions,
  type FakeConversationServer,
  startFakeConversationServer,
} from './elevenlabs-conversation';
import { type Behaviour, type RecordedRequest, type Responder, startScriptedServer } from './scripted-server';

export const ELEVENLABS_SIGNED_URL_PATH = '/v1/convai/conversation/get-signed-url';
export const ELEVENLABS_TOKEN_PATH = '/v1/convai/conversation/token';

export interface FakeElevenLabs {
  /** Base URL without a trailing slash (what ELEVENLABS_BASE_URL would be). */
  url: string;
  apiKey: string;
  agentId: string;
  requests: RecordedRequest[];
  /** The conversation websocket signed URLs lead to (only when started with `conversation`). */
  conversation?: FakeConversationServer;
  /** Queues one-shot answers for the next requests (e.g. `{ kind: 'hang' }`). */
  enqueue(...responders: Responder[]): void;
  close(): Promise<void>;
}

function detail(status: number, code: string, message: string): Behaviour {
  return { kind: 'json', status, body: { detail: { status: code, message } } };
}

export async function startFakeElevenLabs(
  opts: {
    apiKey?: string;
    agentId?: string;
    conversation?: Omit<FakeConversationOptions, 'isValidSignature'>;
  } = {},
): Promise<FakeElevenLabs> {
  const apiKey = opts.apiKey ?? 'xi-test-key-0123456789';
  const agentId = opts.agentId ?? 'agent_01testagent';
  let issued = 0;
  const signatures = new Set<string>();
  const conversation = opts.conversation
    ? await startFakeConversationServer({ ...opts.conversation, isValidSignature: (s) => signatures.has(s) })
    : undefined;

  const answer = (req: RecordedRequest): Behaviour => {
    const url = new URL(req.path, 'http://fake');
    if (req.method !== 'GET') return detail(405, 'method_not_allowed', 'Method Not Allowed');
    if (req.headers['xi-api-key'] !== apiKey) return detail(401, 'invalid_api_key', 'Invalid API key');
    const agent = url.searchParams.get('agent_id');
    if (!agent) {
      return {
        kind: 'json',
        status: 422,
        body: { detail: [{ loc: ['query', 'agent_id'], msg: 'Field required', type: 'missing' }] },
      };
    }
    if (agent !== agentId) return detail(404, 'agent_not_found', `Agent ${agent} not found`);
    issued += 1;
    if (url.pathname === ELEVENLABS_SIGNED_URL_PATH) {
      const signature = `sig_${issued}`;
      signatures.add(signature);
      return {
        kind: 'json',
        status: 200,
        body: {
          signed_url: conversation
            ? conversation.signedUrl(agent, signature)
            : `wss://api.elevenlabs.io/v1/convai/conversation?agent_id=${agent}&conversation_signature=${signature}`,
        },
      };
    }
    return { kind: 'json', status: 200, body: { token: `eyJ.fake-webrtc-token.${issued}` } };
  };

  const server = await startScriptedServer({
    default: answer,
    paths: [ELEVENLABS_SIGNED_URL_PATH, ELEVENLABS_TOKEN_PATH],
  });
  return {
    url: server.url,
    apiKey,
    agentId,
    requests: server.requests,
    ...(conversation ? { conversation } : {}),
    enqueue: (...responders) => server.enqueue(...responders),
    close: async () => {
      await conversation?.close();
      await server.close();
    },
  };
}
