// Browser auth in both modes. JWT: real tokens signed with a local key pair, verified through
// jose against a JWKS served on loopback. Anonymous: allowed origins and per-IP rate limits
// counted in the control table.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import {
  APP_ORIGIN,
  type CreatedSession,
  createTestBrowserApi,
  type ErrorBody,
  SESSIONS_TABLE,
  secretHeader,
  startTestStorage,
  type TestBrowserApi,
  type TestStorage,
  testConfig,
} from './harness';

const ISSUER = 'https://login.example.com/';
const AUDIENCE = 'vision-api';

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

let storage: TestStorage;
let jwksServer: http.Server;
let jwksUrl: string;
let jwksAvailable = true;
let rsaKey: SigningKey;
let ecKey: SigningKey;
let strangerKey: SigningKey;

beforeAll(async () => {
  storage = await startTestStorage();
  const rsa = await generateKeyPair('RS256');
  const ec = await generateKeyPair('ES256');
  rsaKey = rsa.privateKey;
  ecKey = ec.privateKey;
  strangerKey = (await generateKeyPair('RS256')).privateKey;
  const keys: JWK[] = [
    { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
  ];
  jwksServer = http.createServer((_req, res) => {
    if (!jwksAvailable) {
      res.writeHead(503);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
});
afterAll(async () => {
  jwksServer.closeAllConnections();
  await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
  await storage.close();
});

function token(
  claims: { sub?: string; iss?: string; aud?: string; exp?: number | string },
  key: SigningKey = rsaKey,
  header: { alg: string; kid: string } = { alg: 'RS256', kid: 'rsa-1' },
): Promise<string> {
  const jwt = new SignJWT({})
    .setProtectedHeader(header)
    .setIssuedAt()
    .setIssuer(claims.iss ?? ISSUER)
    .setAudience(claims.aud ?? AUDIENCE);
  if (claims.sub !== undefined) jwt.setSubject(claims.sub);
  jwt.setExpirationTime(claims.exp ?? '5m');
  return jwt.sign(key);
}

function bearer(jwt: string): Record<string, string> {
  return { authorization: `Bearer ${jwt}` };
}

describe('jwt mode', () => {
  let api: TestBrowserApi;

  beforeAll(() => {
    api = createTestBrowserApi(
      storage,
      testConfig({
        auth: { mode: 'jwt', issuer: ISSUER, audience: AUDIENCE, jwksUrl, allowedOrigins: [APP_ORIGIN] },
      }),
    );
  });

  test('a valid RS256 or ES256 token creates a session owned by its subject', async () => {
    const res = await api.call<CreatedSession>('POST', '/sessions', {
      headers: bearer(await token({ sub: 'user-1' })),
    });
    expect(res.status).toBe(201);
    const meta = await storage.clients.dynamo.send(
      new GetCommand({ TableName: SESSIONS_TABLE, Key: { pk: `SESSION#${res.json.sessionId}`, sk: 'META' } }),
    );
    expect(meta.Item?.ownerSub).toBe('user-1');

    const ec = await token({ sub: 'user-2' }, ecKey, { alg: 'ES256', kid: 'ec-1' });
    expect((await api.call('POST', '/sessions', { headers: bearer(ec) })).status).toBe(201);
    // Server-to-server callers send no Origin; the token alone is the credential.
    expect((await api.call('POST', '/sessions', { headers: bearer(ec), noOrigin: true })).status).toBe(201);
  });

  test.each([
    ['no Authorization header', async () => ({}), 'missing_token'],
    ['a Basic header', async () => ({ authorization: 'Basic dXNlcjpwYXNz' }), 'invalid_token'],
    ['garbage', async () => bearer('not.a.jwt'), 'invalid_token'],
    [
      'another issuer',
      async () => bearer(await token({ sub: 'u', iss: 'https://evil.example.com/' })),
      'invalid_token',
    ],
    ['another audience', async () => bearer(await token({ sub: 'u', aud: 'someone-else' })), 'invalid_token'],
    [
      'an expired token',
      async () => bearer(await token({ sub: 'u', exp: Math.floor(Date.now() / 1000) - 600 })),
      'token_expired',
    ],
    ['no sub', async () => bearer(await token({})), 'invalid_token'],
    [
      'a key the issuer does not publish',
      async () => bearer(await token({ sub: 'u' }, strangerKey)),
      'invalid_token',
    ],
    [
      'HS256 (shared secret)',
      async () =>
        bearer(
          await new SignJWT({ sub: 'u' })
            .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
            .setIssuer(ISSUER)
            .setAudience(AUDIENCE)
            .setExpirationTime('5m')
            .sign(new TextEncoder().encode('a-shared-secret-of-at-least-32-bytes!!')),
        ),
      'invalid_token',
    ],
  ])('refuses %s with 401', async (_name, headers, code) => {
    const res = await api.call<ErrorBody>('POST', '/sessions', { headers: await headers() });
    expect(res.status).toBe(401);
    expect(res.json.error.type).toBe('authentication_error');
    expect(res.json.error.code).toBe(code);
  });

  test('session calls need the same subject and the session secret', async () => {
    const owner = bearer(await token({ sub: 'owner-1' }));
    const created = await api.call<CreatedSession>('POST', '/sessions', { headers: owner });
    const path = `/sessions/${created.json.sessionId}`;
    const ok = await api.call('GET', path, { headers: { ...owner, ...secretHeader(created.json) } });
    expect(ok.status).toBe(200);

    const intruder = bearer(await token({ sub: 'intruder' }));
    const mismatch = await api.call<ErrorBody>('GET', path, {
      headers: { ...intruder, ...secretHeader(created.json) },
    });
    expect([mismatch.status, mismatch.json.error.code]).toEqual([403, 'session_owner_mismatch']);

    const noSecret = await api.call<ErrorBody>('GET', path, { headers: owner });
    expect([noSecret.status, noSecret.json.error.code]).toEqual([401, 'session_secret_required']);
    const noToken = await api.call<ErrorBody>('GET', path, { headers: secretHeader(created.json) });
    expect([noToken.status, noToken.json.error.code]).toEqual([401, 'missing_token']);
  });

  test('a foreign Origin is refused even with a valid token', async () => {
    const res = await api.call<ErrorBody>('POST', '/sessions', {
      headers: { ...bearer(await token({ sub: 'u' })), origin: 'https://evil.example.com' },
    });
    expect([res.status, res.json.error.code]).toEqual([403, 'origin_not_allowed']);
  });

  test('an unreachable JWKS is a 503 (our outage), not a 401', async () => {
    // A fresh verifier has no cached keys, so it must fetch them now.
    const cold = createTestBrowserApi(
      storage,
      testConfig({ auth: { mode: 'jwt', issuer: ISSUER, audience: AUDIENCE, jwksUrl, allowedOrigins: [] } }),
    );
    jwksAvailable = false;
    try {
      const res = await cold.call<ErrorBody>('POST', '/sessions', {
        headers: bearer(await token({ sub: 'u' })),
      });
      expect([res.status, res.json.error.code]).toEqual([503, 'auth_provider_unavailable']);
      expect(res.headers['retry-after']).toBeDefined();
    } finally {
      jwksAvailable = true;
    }
  });
});

describe('anonymous mode', () => {
  let api: TestBrowserApi;

  beforeAll(() => {
    api = createTestBrowserApi(
      storage,
      testConfig({
        auth: { mode: 'anonymous', allowedOrigins: [APP_ORIGIN, 'http://localhost:5173'] },
        rateLimits: { sessionsPerMinute: 10, uploadsPerMinute: 3, requestsPerMinute: 1000 },
      }),
    );
    // Mid-window, so the eleven calls below all land in the same minute.
    api.clock.now = Math.floor(Date.now() / 60_000) * 60_000 + 1000;
  });

  test('requests from a foreign Origin, or without one, are refused', async () => {
    const foreign = await api.call<ErrorBody>('POST', '/sessions', {
      headers: { origin: 'https://evil.example.com' },
      ip: '203.0.113.1',
    });
    expect([foreign.status, foreign.json.error.code]).toEqual([403, 'origin_not_allowed']);
    // Exact match only: a trailing slash or another port is another origin.
    const lookalike = await api.call<ErrorBody>('POST', '/sessions', {
      headers: { origin: `${APP_ORIGIN}:8443` },
      ip: '203.0.113.1',
    });
    expect(lookalike.status).toBe(403);
    const none = await api.call<ErrorBody>('POST', '/sessions', { noOrigin: true, ip: '203.0.113.1' });
    expect([none.status, none.json.error.code]).toEqual([403, 'origin_required']);
    const local = await api.call('POST', '/sessions', {
      headers: { origin: 'http://localhost:5173' },
      ip: '203.0.113.1',
    });
    expect(local.status).toBe(201);
  });

  test('the 11th session from one IP within a minute is a 429 with retry-after; other IPs are unaffected', async () => {
    const ip = '198.51.100.11';
    for (let i = 0; i < 10; i++) expect((await api.call('POST', '/sessions', { ip })).status).toBe(201);
    const eleventh = await api.call<ErrorBody>('POST', '/sessions', { ip });
    expect(eleventh.status).toBe(429);
    expect(eleventh.json.error.code).toBe('rate_limit_exceeded');
    expect(Number(eleventh.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(eleventh.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect((await api.call('POST', '/sessions', { ip: '198.51.100.12' })).status).toBe(201);

    api.clock.now += 60_000;
    expect((await api.call('POST', '/sessions', { ip })).status).toBe(201);
  });

  test('image creation has its own per-IP allowance', async () => {
    const ip = '198.51.100.21';
    const session = await api.createSession({ ip });
    const add = () =>
      api.call<ErrorBody>('POST', `/sessions/${session.sessionId}/images`, {
        body: { contentType: 'image/png', contentLength: 1000 },
        headers: secretHeader(session),
        ip,
      });
    for (let i = 0; i < 3; i++) expect((await add()).status).toBe(201);
    const fourth = await add();
    expect([fourth.status, fourth.json.error.code]).toEqual([429, 'rate_limit_exceeded']);
  });
});

describe('per-session upload limit', () => {
  let api: TestBrowserApi;
  beforeAll(() => {
    api = createTestBrowserApi(
      storage,
      testConfig({
        rateLimits: {
          sessionsPerMinute: 1000,
          uploadsPerMinute: 1000,
          requestsPerMinute: 1000,
          uploadsPerSessionPerMinute: 2,
        },
      }),
    );
  });

  test('one session cannot add more than its allowance, from however many addresses', async () => {
    const session = await api.createSession({ ip: '198.51.100.31' });
    const other = await api.createSession({ ip: '198.51.100.31' });
    const add = (s: CreatedSession, ip: string) =>
      api.call<ErrorBody>('POST', `/sessions/${s.sessionId}/images`, {
        body: { contentType: 'image/png', contentLength: 1000 },
        headers: secretHeader(s),
        ip,
      });
    expect((await add(session, '198.51.100.32')).status).toBe(201);
    expect((await add(session, '198.51.100.33')).status).toBe(201);
    const third = await add(session, '198.51.100.34');
    expect(third.status).toBe(429);
    expect(third.json.error).toMatchObject({
      code: 'rate_limit_exceeded',
      message: expect.stringContaining('this session'),
    });
    expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
    // Another session is unaffected, and the allowance comes back with the next window.
    expect((await add(other, '198.51.100.32')).status).toBe(201);
    api.clock.now += 60_000;
    expect((await add(session, '198.51.100.32')).status).toBe(201);
  });
});
