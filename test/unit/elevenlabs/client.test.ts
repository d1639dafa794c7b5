// The ElevenLabs client against a fake of the API on loopback: right endpoints, the key only
// in `xi-api-key`, and one precise error per way the call can fail.

import { ElevenLabsClient } from '../../../shared/elevenlabs/client';
import { ApiError, UpstreamError } from '../../../shared/errors';
import { type FakeElevenLabs, startFakeElevenLabs } from '../../fakes/elevenlabs-server';

let fake: FakeElevenLabs;
let client: ElevenLabsClient;

beforeAll(async () => {
  fake = await startFakeElevenLabs();
  client = new ElevenLabsClient({ apiKey: fake.apiKey, baseUrl: `${fake.url}/`, timeoutMs: 300 });
});
afterAll(() => fake.close());

async function failure(call: Promise<unknown>): Promise<UpstreamError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpstreamError);
  const upstream = err as UpstreamError;
  // Whatever went wrong, the key is never part of what can reach a browser or a log.
  expect(JSON.stringify(upstream.toBody())).not.toContain(fake.apiKey);
  expect(upstream.message).not.toContain(fake.apiKey);
  return upstream;
}

test('getSignedUrl calls get-signed-url with agent_id and the key in xi-api-key', async () => {
  const signedUrl = await client.getSignedUrl(fake.agentId);
  expect(signedUrl).toMatch(
    /^wss:\/\/api\.elevenlabs\.io\/v1\/convai\/conversation\?agent_id=agent_01testagent&conversation_signature=/,
  );
  const req = fake.requests.at(-1)!;
  expect(req.method).toBe('GET');
  expect(req.path).toBe(`/v1/convai/conversation/get-signed-url?agent_id=${fake.agentId}`);
  expect(req.headers['xi-api-key']).toBe(fake.apiKey);
  expect(req.headers.authorization).toBeUndefined();
});

test('getConversationToken calls token with agent_id and returns the WebRTC token', async () => {
  const token = await client.getConversationToken(fake.agentId);
  expect(token).toMatch(/^eyJ\.fake-webrtc-token\./);
  expect(fake.requests.at(-1)!.path).toBe(`/v1/convai/conversation/token?agent_id=${fake.agentId}`);
});

test('the agent id is URL-encoded', async () => {
  await failure(client.getConversationToken('agent&evil=1'));
  expect(fake.requests.at(-1)!.path).toBe('/v1/convai/conversation/token?agent_id=agent%26evil%3D1');
});

test('a refused key is a 502 elevenlabs_auth_failed', async () => {
  const wrongKey = new ElevenLabsClient({ apiKey: 'xi-wrong-key', baseUrl: fake.url });
  const err = await failure(wrongKey.getSignedUrl(fake.agentId));
  expect([err.status, err.code, err.upstreamStatus]).toEqual([502, 'elevenlabs_auth_failed', 401]);
});

test('an unknown agent is a 502 elevenlabs_agent_not_found', async () => {
  const err = await failure(client.getConversationToken('agent_unknown'));
  expect([err.status, err.code]).toEqual([502, 'elevenlabs_agent_not_found']);
  expect(err.message).toContain('ELEVENLABS_AGENT_ID');
});

test('a silent ElevenLabs is a 504 elevenlabs_timeout after the configured budget', async () => {
  fake.enqueue({ kind: 'hang' });
  const started = Date.now();
  const err = await failure(client.getConversationToken(fake.agentId));
  expect([err.status, err.code, err.type]).toEqual([504, 'elevenlabs_timeout', 'timeout_error']);
  expect(Date.now() - started).toBeLessThan(2000);
});

test('5xx is a retryable 502 elevenlabs_unavailable; 429 a 503 with retry-after', async () => {
  fake.enqueue({ kind: 'json', status: 503, body: { detail: 'down' } });
  const down = await failure(client.getSignedUrl(fake.agentId));
  expect([down.status, down.code, down.retryable]).toEqual([502, 'elevenlabs_unavailable', true]);

  fake.enqueue({ kind: 'json', status: 429, body: { detail: 'slow down' }, headers: { 'retry-after': '7' } });
  const limited = await failure(client.getSignedUrl(fake.agentId));
  expect([limited.status, limited.code, limited.retryAfterSeconds]).toEqual([
    503,
    'elevenlabs_rate_limited',
    7,
  ]);
});

test('a 200 without the expected field is a 502 elevenlabs_bad_response', async () => {
  fake.enqueue({ kind: 'json', status: 200, body: { something: 'else' } });
  const err = await failure(client.getConversationToken(fake.agentId));
  expect([err.status, err.code]).toEqual([502, 'elevenlabs_bad_response']);
});

test('an unreachable host is a 502 elevenlabs_unreachable', async () => {
  const nowhere = new ElevenLabsClient({
    apiKey: fake.apiKey,
    baseUrl: 'http://127.0.0.1:1',
    timeoutMs: 1000,
  });
  const err = await failure(nowhere.getSignedUrl(fake.agentId));
  expect([err.status, err.code]).toEqual([502, 'elevenlabs_unreachable']);
});

test('a caller abort stops the request', async () => {
  fake.enqueue({ kind: 'hang' });
  const controller = new AbortController();
  const pending = client.getSignedUrl(fake.agentId, controller.signal);
  controller.abort();
  await expect(pending).rejects.toBeInstanceOf(ApiError);
});
