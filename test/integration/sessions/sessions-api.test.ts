// The sessions API end to end over the emulators: what POST /sessions stores and returns
// (ElevenLabs credentials included), the session secret, expiry, links and deletion.
import { createHash } from 'node:crypto';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { type FakeElevenLabs, startFakeElevenLabs } from '../../fakes/elevenlabs-server';
import { solidJpeg } from '../uploads/test-images';
import {
  type CreatedSession,
  createTestBrowserApi,
  type ErrorBody,
  objectKeys,
  partitionItems,
  postUploadForm,
  SESSIONS_TABLE,
  secretHeader,
  sessionObjects,
  startTestStorage,
  type TestBrowserApi,
  type TestStorage,
  testConfig,
} from './harness';

interface UploadFormReply {
  imageId: string;
  upload: { url: string; fields: Record<string, string> };
}

let storage: TestStorage;
let fake: FakeElevenLabs;
let api: TestBrowserApi;

beforeAll(async () => {
  storage = await startTestStorage();
  fake = await startFakeElevenLabs();
  api = createTestBrowserApi(
    storage,
    testConfig({ elevenLabs: { apiKey: fake.apiKey, agentId: fake.agentId, baseUrl: fake.url } }),
  );
});
afterAll(async () => {
  await fake.close();
  await storage.close();
});

async function countSessions(): Promise<number> {
  const out = await storage.clients.dynamo.send(
    new ScanCommand({
      TableName: SESSIONS_TABLE,
      FilterExpression: 'sk = :meta',
      ExpressionAttributeValues: { ':meta': 'META' },
    }),
  );
  return out.Count ?? 0;
}

async function addImage(session: CreatedSession, bytes: Buffer): Promise<string> {
  const form = await api.call<UploadFormReply>('POST', `/sessions/${session.sessionId}/images`, {
    body: { contentType: 'image/jpeg', contentLength: bytes.length },
    headers: secretHeader(session),
  });
  await postUploadForm(form.json.upload, bytes, 'image/jpeg');
  const done = await api.call('POST', `/sessions/${session.sessionId}/images/${form.json.imageId}/complete`, {
    headers: secretHeader(session),
  });
  expect(done.status).toBe(200);
  return form.json.imageId;
}

describe('POST /sessions', () => {
  test('stores the META item in the agreed layout, with only a hash of the secret', async () => {
    const before = api.clock.now;
    const res = await api.call<CreatedSession>('POST', '/sessions', { body: {} });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const { sessionId, sessionSecret, expiresAt } = res.json;
    expect(sessionId).toMatch(/^s_[A-Za-z0-9_-]{22}$/);
    expect(sessionSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(expiresAt)).toBe(before + 3600_000);

    const meta = await storage.clients.dynamo.send(
      new GetCommand({ TableName: SESSIONS_TABLE, Key: { pk: `SESSION#${sessionId}`, sk: 'META' } }),
    );
    expect(meta.Item).toEqual({
      pk: `SESSION#${sessionId}`,
      sk: 'META',
      sessionId,
      createdAt: before,
      expiresAt: before + 3600_000,
      ttl: Math.ceil((before + 3600_000) / 1000),
      secretHash: createHash('sha256').update(sessionSecret).digest('hex'),
    });
    expect(JSON.stringify(meta.Item)).not.toContain(sessionSecret);
  });

  test('default connection: a WebRTC conversation token fetched with xi-api-key; the key is never returned', async () => {
    const seen = fake.requests.length;
    const res = await api.call<CreatedSession>('POST', '/sessions');
    expect(res.status).toBe(201);
    expect(res.json.elevenLabs).toEqual({
      agentId: fake.agentId,
      conversationToken: expect.stringMatching(/^eyJ\.fake-webrtc-token\./),
      customLlmExtraBody: { session_id: res.json.sessionId },
    });
    const calls = fake.requests.slice(seen);
    expect(calls.map((r) => r.path)).toEqual([`/v1/convai/conversation/token?agent_id=${fake.agentId}`]);
    expect(calls[0]!.headers['xi-api-key']).toBe(fake.apiKey);
    expect(res.text).not.toContain(fake.apiKey);
  });

  test('"websocket" returns a signed URL; "both" returns both', async () => {
    const ws = await api.call<CreatedSession>('POST', '/sessions', { body: { connection: 'websocket' } });
    expect(ws.json.elevenLabs?.signedUrl).toMatch(/^wss:\/\//);
    expect(ws.json.elevenLabs?.conversationToken).toBeUndefined();
    const both = await api.call<CreatedSession>('POST', '/sessions', { body: { connection: 'both' } });
    expect(both.json.elevenLabs?.signedUrl).toMatch(/^wss:\/\//);
    expect(both.json.elevenLabs?.conversationToken).toMatch(/^eyJ/);
    expect(both.text).not.toContain(fake.apiKey);
    const bad = await api.call<ErrorBody>('POST', '/sessions', { body: { connection: 'carrier-pigeon' } });
    expect([bad.status, bad.json.error.param]).toEqual([400, 'connection']);
  });

  test('an ElevenLabs failure answers its precise error and leaves no session behind', async () => {
    const sessions = await countSessions();
    fake.enqueue({ kind: 'json', status: 401, body: { detail: { status: 'invalid_api_key' } } });
    const res = await api.call<ErrorBody>('POST', '/sessions');
    expect(res.status).toBe(502);
    expect(res.json.error.code).toBe('elevenlabs_auth_failed');
    expect(res.text).not.toContain(fake.apiKey);
    expect(await countSessions()).toBe(sessions);
  });

  test('without ElevenLabs configured, the session is created and elevenLabs is null', async () => {
    const plain = createTestBrowserApi(storage);
    const res = await plain.call<CreatedSession>('POST', '/sessions');
    expect(res.status).toBe(201);
    expect(res.json.elevenLabs).toBeNull();
  });
});

describe('the session secret', () => {
  test('every session-scoped call needs it: missing 401, wrong 403', async () => {
    const session = await api.createSession();
    const other = await api.createSession();
    const calls: [string, string, unknown][] = [
      ['GET', `/sessions/${session.sessionId}`, undefined],
      ['DELETE', `/sessions/${session.sessionId}`, undefined],
      ['POST', `/sessions/${session.sessionId}/link`, { conversationId: 'conv_0123456789' }],
      ['POST', `/sessions/${session.sessionId}/images`, { contentType: 'image/png', contentLength: 1000 }],
      ['POST', `/sessions/${session.sessionId}/images/img_AAAAAAAAAAAAAAAAAAAAAA/complete`, undefined],
    ];
    for (const [method, path, body] of calls) {
      const missing = await api.call<ErrorBody>(method, path, { body });
      expect([method, path, missing.status, missing.json.error.code]).toEqual([
        method,
        path,
        401,
        'session_secret_required',
      ]);
      const wrong = await api.call<ErrorBody>(method, path, { body, headers: secretHeader(other) });
      expect([method, path, wrong.status, wrong.json.error.code]).toEqual([
        method,
        path,
        403,
        'invalid_session_secret',
      ]);
    }
    // Nothing happened: the session is intact and has no images.
    const got = await api.call<{ images: unknown[] }>('GET', `/sessions/${session.sessionId}`, {
      headers: secretHeader(session),
    });
    expect(got.status).toBe(200);
    expect(got.json.images).toEqual([]);
  });

  test('an unknown session is 404 session_not_found', async () => {
    const res = await api.call<ErrorBody>('GET', '/sessions/s_AAAAAAAAAAAAAAAAAAAAAA', {
      headers: { 'x-session-secret': 'x'.repeat(43) },
    });
    expect([res.status, res.json.error.code]).toEqual([404, 'session_not_found']);
  });
});

describe('expiry (clock injected; dynalite never expires items)', () => {
  test('an expired session answers 410 session_expired to its holder, 403 to others, and can still be deleted', async () => {
    const expiring = createTestBrowserApi(storage, testConfig({ sessionTtlSeconds: 60 }));
    const session = await expiring.createSession();
    const imageId = await (async () => {
      const form = await expiring.call<UploadFormReply>('POST', `/sessions/${session.sessionId}/images`, {
        body: { contentType: 'image/jpeg', contentLength: 1000 },
        headers: secretHeader(session),
      });
      return form.json.imageId;
    })();
    expiring.clock.now += 61_000;

    for (const [method, path, body] of [
      ['GET', `/sessions/${session.sessionId}`, undefined],
      ['POST', `/sessions/${session.sessionId}/images`, { contentType: 'image/png', contentLength: 1000 }],
      ['POST', `/sessions/${session.sessionId}/images/${imageId}/complete`, undefined],
      ['POST', `/sessions/${session.sessionId}/link`, { conversationId: 'conv_expired0001' }],
    ] as const) {
      const res = await expiring.call<ErrorBody>(method, path, { body, headers: secretHeader(session) });
      expect([path, res.status, res.json.error.code]).toEqual([path, 410, 'session_expired']);
    }
    const stranger = await expiring.call<ErrorBody>('GET', `/sessions/${session.sessionId}`, {
      headers: { 'x-session-secret': 'y'.repeat(43) },
    });
    expect(stranger.status).toBe(403);
    expect(await expiring.deps.store.loadSessionContext(session.sessionId)).toBeUndefined();
    expect(await expiring.deps.store.getSession(session.sessionId)).toBeUndefined();

    const deleted = await expiring.call('DELETE', `/sessions/${session.sessionId}`, {
      headers: secretHeader(session),
    });
    expect(deleted.status).toBe(204);
    expect(await partitionItems(storage, session.sessionId)).toEqual([]);
  });
});

describe('ids are checked before any I/O', () => {
  test.each([
    ['a traversal session id', 'GET', '/sessions/..%2F..%2Fetc', 400, 'invalid_session_id'],
    ['an odd session id', 'DELETE', '/sessions/s_%00abc', 400, 'invalid_session_id'],
    ['a session id of the wrong length', 'GET', '/sessions/s_AAAA', 400, 'invalid_session_id'],
    [
      'a traversal image id',
      'POST',
      '/sessions/s_AAAAAAAAAAAAAAAAAAAAAA/images/img_..%2F..%2Fx/complete',
      400,
      'invalid_image_id',
    ],
    [
      'a raw traversal image id (no such route)',
      'POST',
      '/sessions/s_AAAAAAAAAAAAAAAAAAAAAA/images/img_../../x/complete',
      404,
      'unknown_url',
    ],
  ])('%s', async (_name, method, path, status, code) => {
    const send = jest.spyOn(storage.clients.dynamo, 'send');
    const s3send = jest.spyOn(storage.clients.s3, 'send');
    try {
      const res = await api.call<ErrorBody>(method, path, {
        headers: { 'x-session-secret': 'z'.repeat(43) },
      });
      expect([res.status, res.json.error.code]).toEqual([status, code]);
      expect(send).not.toHaveBeenCalled();
      expect(s3send).not.toHaveBeenCalled();
    } finally {
      send.mockRestore();
      s3send.mockRestore();
    }
  });

  test("another session's image id is 404 image_not_found", async () => {
    const mine = await api.createSession();
    const theirs = await api.createSession();
    const imageId = await addImage(theirs, await solidJpeg(64, 64, [1, 1, 1]));
    const res = await api.call<ErrorBody>('POST', `/sessions/${mine.sessionId}/images/${imageId}/complete`, {
      headers: secretHeader(mine),
    });
    expect([res.status, res.json.error.code]).toEqual([404, 'image_not_found']);
  });
});

describe('POST /sessions/{id}/link', () => {
  test('links a conversation once; another session cannot take it over', async () => {
    const session = await api.createSession();
    const conversationId = `conv_${Date.now()}abc`;
    const res = await api.call('POST', `/sessions/${session.sessionId}/link`, {
      body: { conversationId },
      headers: secretHeader(session),
    });
    expect(res.status).toBe(200);
    expect(await api.deps.store.sessionIdForConversation(conversationId)).toBe(session.sessionId);
    const again = await api.call('POST', `/sessions/${session.sessionId}/link`, {
      body: { conversationId },
      headers: secretHeader(session),
    });
    expect(again.status).toBe(200);

    const thief = await api.createSession();
    const stolen = await api.call<ErrorBody>('POST', `/sessions/${thief.sessionId}/link`, {
      body: { conversationId },
      headers: secretHeader(thief),
    });
    expect([stolen.status, stolen.json.error.code]).toEqual([409, 'conversation_already_linked']);
    expect(await api.deps.store.sessionIdForConversation(conversationId)).toBe(session.sessionId);

    const got = await api.call<{ conversationId: string }>('GET', `/sessions/${session.sessionId}`, {
      headers: secretHeader(session),
    });
    expect(got.json.conversationId).toBe(conversationId);
  });

  test('a malformed conversation id is 400 invalid_conversation_id', async () => {
    const session = await api.createSession();
    for (const conversationId of ['../x', 'conv id', '', 'x'.repeat(200)]) {
      const res = await api.call<ErrorBody>('POST', `/sessions/${session.sessionId}/link`, {
        body: { conversationId },
        headers: secretHeader(session),
      });
      expect([res.status, res.json.error.code]).toEqual([400, 'invalid_conversation_id']);
    }
  });
});

describe('GET /sessions/{id}/usage', () => {
  test("the session's token and cost totals as the chat function adds them; other sessions' are not counted", async () => {
    const session = await api.createSession();
    const other = await api.createSession();
    const empty = await api.call('GET', `/sessions/${session.sessionId}/usage`, {
      headers: secretHeader(session),
    });
    expect(empty.status).toBe(200);
    expect(empty.headers['cache-control']).toBe('no-store');
    expect(empty.json).toEqual({ available: true, tokensIn: 0, tokensOut: 0, costUsd: 0 });
    // What the chat function records after each turn (shared/limits/budget.ts), twice.
    await api.deps.budget.addUsage(session.sessionId, { tokensIn: 1200, tokensOut: 40, costUsd: 0.0031 });
    await api.deps.budget.addUsage(session.sessionId, { tokensIn: 800, tokensOut: 10, costUsd: 0.0019 });
    await api.deps.budget.addUsage(other.sessionId, { tokensIn: 5, tokensOut: 5, costUsd: 1 });
    const used = await api.call('GET', `/sessions/${session.sessionId}/usage`, {
      headers: secretHeader(session),
    });
    expect(used.json).toEqual({ available: true, tokensIn: 2000, tokensOut: 50, costUsd: 0.005 });
  });

  test('needs the session secret like every session call', async () => {
    const session = await api.createSession();
    const res = await api.call<ErrorBody>('GET', `/sessions/${session.sessionId}/usage`);
    expect(res.status).toBe(401);
  });
});

describe('DELETE /sessions/{id}', () => {
  test('removes every item (links included) and every object, ready or half-uploaded', async () => {
    const session = await api.createSession();
    await addImage(session, await solidJpeg(100, 100, [9, 9, 9]));
    await addImage(session, await solidJpeg(100, 100, [200, 9, 9]));
    const tiny = await solidJpeg(10, 10, [0, 0, 0]);
    const pending = await api.call<UploadFormReply>('POST', `/sessions/${session.sessionId}/images`, {
      body: { contentType: 'image/jpeg', contentLength: tiny.length },
      headers: secretHeader(session),
    });
    await postUploadForm(pending.json.upload, tiny, 'image/jpeg');
    const conversationId = `conv_del${Date.now()}`;
    await api.call('POST', `/sessions/${session.sessionId}/link`, {
      body: { conversationId },
      headers: secretHeader(session),
    });
    expect((await sessionObjects(storage, session.sessionId)).length).toBe(3);

    const res = await api.call('DELETE', `/sessions/${session.sessionId}`, {
      headers: secretHeader(session),
    });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(await partitionItems(storage, session.sessionId)).toEqual([]);
    expect(await sessionObjects(storage, session.sessionId)).toEqual([]);
    expect(await objectKeys(storage, `images/${session.sessionId}`)).toEqual([]);
    expect(await api.deps.store.sessionIdForConversation(conversationId)).toBeUndefined();
    const link = await storage.clients.dynamo.send(
      new GetCommand({ TableName: SESSIONS_TABLE, Key: { pk: `CONV#${conversationId}`, sk: 'LINK' } }),
    );
    expect(link.Item).toBeUndefined();

    const gone = await api.call<ErrorBody>('GET', `/sessions/${session.sessionId}`, {
      headers: secretHeader(session),
    });
    expect([gone.status, gone.json.error.code]).toEqual([404, 'session_not_found']);
  });
});
