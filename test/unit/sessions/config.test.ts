import { loadBrowserApiConfig } from '../../../shared/browser-api/config';
import { loadConfig } from '../../../shared/config';
import { ConfigError } from '../../../shared/errors';
import { DEFAULT_IMAGE_LIMITS } from '../../../shared/images/normalize';

const BASE = {
  SESSIONS_TABLE: 'sessions',
  CONTROL_TABLE: 'control',
  IMAGES_BUCKET: 'bucket',
  AUTH_MODE: 'anonymous',
  ALLOWED_ORIGINS: 'https://app.example.com, http://localhost:5173',
};

test('defaults: 1 h sessions, 15 MB uploads, 2 MB inline, 10/60/120 per minute per caller, 30 images per session', () => {
  const c = loadBrowserApiConfig(BASE);
  expect(c.sessionTtlSeconds).toBe(3600);
  expect(c.maxUploadBytes).toBe(15 * 1024 * 1024);
  expect(c.maxInlineBytes).toBe(2 * 1024 * 1024);
  expect(c.rateLimits).toEqual({
    sessionsPerMinute: 10,
    uploadsPerMinute: 60,
    requestsPerMinute: 120,
    uploadsPerSessionPerMinute: 30,
  });
  expect(c.auth).toEqual({
    mode: 'anonymous',
    allowedOrigins: ['https://app.example.com', 'http://localhost:5173'],
  });
  expect(c.imageLimits).toEqual({
    maxInputBytes: 15 * 1024 * 1024,
    maxInputPixels: 50_000_000,
    maxLongEdge: 1568,
    maxPixels: 1_150_000,
    outputFormat: 'jpeg',
  });
  expect(c.elevenLabs).toBeUndefined();
  expect(c.uploadsUrl).toBeUndefined();
  expect(c.endpoints).toEqual({});
});

test('the infra environment contract is read as given', () => {
  const c = loadBrowserApiConfig({
    ...BASE,
    AUTH_MODE: 'jwt',
    JWT_ISSUER: 'https://login.example.com/',
    JWT_AUDIENCE: 'api',
    JWT_JWKS_URL: 'https://login.example.com/.well-known/jwks.json',
    SESSION_TTL_SECONDS: '7200',
    UPLOADS_URL: 'https://abc.lambda-url.us-east-1.on.aws/',
    ELEVENLABS_API_KEY: 'xi-key',
    ELEVENLABS_AGENT_ID: 'agent_123',
    MAX_UPLOAD_BYTES: '1048576',
    IMAGE_MAX_LONG_EDGE: '1024',
    IMAGE_MAX_PIXELS: '500000',
    RATE_LIMIT_SESSIONS_PER_IP_PER_MINUTE: '5',
    AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:4567',
    AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4568',
  });
  expect(c.auth).toEqual({
    mode: 'jwt',
    issuer: 'https://login.example.com/',
    audience: 'api',
    jwksUrl: 'https://login.example.com/.well-known/jwks.json',
    allowedOrigins: ['https://app.example.com', 'http://localhost:5173'],
  });
  expect(c.uploadsUrl).toBe('https://abc.lambda-url.us-east-1.on.aws');
  expect(c.elevenLabs).toEqual({ apiKey: 'xi-key', agentId: 'agent_123' });
  // The inline cap never exceeds the upload cap.
  expect(c.maxInlineBytes).toBe(1048576);
  expect(c.imageLimits).toEqual(
    expect.objectContaining({ maxInputBytes: 1048576, maxLongEdge: 1024, maxPixels: 500000 }),
  );
  expect(c.rateLimits.sessionsPerMinute).toBe(5);
  expect(c.endpoints).toEqual({ dynamodb: 'http://127.0.0.1:4567', s3: 'http://127.0.0.1:4568' });
});

test.each([
  [{ SESSIONS_TABLE: '' }, /SESSIONS_TABLE is required/],
  [{ AUTH_MODE: undefined }, /AUTH_MODE must be "jwt".*or "anonymous"/],
  [{ AUTH_MODE: 'open' }, /AUTH_MODE must be/],
  [{ ALLOWED_ORIGINS: '' }, /AUTH_MODE=anonymous needs ALLOWED_ORIGINS/],
  [{ ALLOWED_ORIGINS: 'https://app.example.com/' }, /ALLOWED_ORIGINS.*no path or trailing slash/],
  [{ ALLOWED_ORIGINS: '*' }, /ALLOWED_ORIGINS/],
  [{ AUTH_MODE: 'jwt', JWT_ISSUER: 'https://i/' }, /AUTH_MODE=jwt needs JWT_AUDIENCE, JWT_JWKS_URL/],
  [
    { AUTH_MODE: 'jwt', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a', JWT_JWKS_URL: 'http://login.example.com/jwks' },
    /JWT_JWKS_URL must use https/,
  ],
  [{ SESSION_TTL_SECONDS: 'soon' }, /SESSION_TTL_SECONDS must be a whole number/],
  [{ SESSION_TTL_SECONDS: '10' }, /SESSION_TTL_SECONDS must be at least 60/],
  [{ MAX_UPLOAD_BYTES: '1e12' }, /MAX_UPLOAD_BYTES must be at most/],
  [{ ELEVENLABS_AGENT_ID: 'agent 1' }, /ELEVENLABS_AGENT_ID must be an agent id/],
])('refuses %j precisely', (overrides, message) => {
  const env: Record<string, string | undefined> = { ...BASE, ...overrides };
  expect(() => loadBrowserApiConfig(env)).toThrow(ConfigError);
  expect(() => loadBrowserApiConfig(env)).toThrow(message);
});

test('image limits default to normalizeImage’s own, and the chat function reads them identically', () => {
  const base = {
    SESSIONS_TABLE: 's',
    CONTROL_TABLE: 'c',
    IMAGES_BUCKET: 'b',
    AUTH_MODE: 'anonymous',
    ALLOWED_ORIGINS: 'https://app.example.com',
  };
  const defaults = loadBrowserApiConfig(base).imageLimits;
  expect(defaults).toEqual({ ...DEFAULT_IMAGE_LIMITS, maxInputBytes: 15 * 1024 * 1024 });
  expect(loadConfig({}).images.limits).toEqual(defaults);
  const custom = { IMAGE_MAX_LONG_EDGE: '1024', IMAGE_MAX_PIXELS: '500000', MAX_UPLOAD_BYTES: '5000000' };
  expect(loadConfig(custom).images.limits).toEqual(loadBrowserApiConfig({ ...base, ...custom }).imageLimits);
  // Out of range is refused by both, with the same message.
  expect(() => loadConfig({ IMAGE_MAX_LONG_EDGE: '10' })).toThrow('IMAGE_MAX_LONG_EDGE must be at least 64');
  expect(() => loadBrowserApiConfig({ ...base, IMAGE_MAX_LONG_EDGE: '10' })).toThrow(
    'IMAGE_MAX_LONG_EDGE must be at least 64',
  );
});
