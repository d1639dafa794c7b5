// The environment the stack gives each function, fed to that function's own config loader:
// a renamed variable on either side fails here instead of at a cold start in AWS.
import { loadGenerateConfig } from '../../functions/generate/handler';
import type { FunctionName } from '../../infra/environment';
import { loadBrowserApiConfig } from '../../shared/browser-api/config';
import { loadConfig } from '../../shared/config';
import type { Env } from '../../shared/env-vars';
import type { ImageLimits } from '../../shared/images/limits';
import { logicalId, type Synthesized, synthStage } from './helpers';

/** Deploy-time values for the template's references, as Lambda would see them. */
function resolvedEnv(s: Synthesized, name: FunctionName): Record<string, string> {
  const fn = s.template.findResources('AWS::Lambda::Function')[logicalId(s.stack[name].fn)]!;
  const vars = fn.Properties.Environment.Variables as Record<string, unknown>;
  const out: Record<string, string> = { AWS_REGION: 'eu-west-1' };
  for (const [key, value] of Object.entries(vars)) {
    if (typeof value === 'string') out[key] = value;
    else if (JSON.stringify(value).includes('FunctionUrl'))
      out[key] = 'https://abc123.lambda-url.eu-west-1.on.aws/';
    else if (key.endsWith('_SECRET_ARN'))
      out[key] = `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${key}-AbCdEf`;
    else out[key] = `resolved-${key.toLowerCase()}`;
  }
  return out;
}

const stage = synthStage('staging', {
  allowedOrigins: ['https://app.example.com'],
  elevenLabsAgentId: 'agent_0123456789',
  auth: {
    mode: 'jwt',
    issuer: 'https://auth.example.com/',
    audience: 'vision',
    jwksUrl: 'https://auth.example.com/jwks.json',
  },
  modelRoutes: { 'vision-fast': ['openai:gpt-4o-mini', 'groq:llama-4'] },
  compatibleProviders: { groq: { baseURL: 'https://api.groq.com/openai/v1', apiKeyEnv: 'GROQ_API_KEY' } },
  limits: {
    sessionTtlSeconds: 5400,
    maxUploadBytes: 8_000_000,
    imageMaxLongEdge: 1024,
    imageMaxPixels: 1_500_000,
    maxImagesPerSession: 8,
  },
});

/** What functions/host/secrets.ts overlays from the LLM secret at start. */
const LLM_SECRET = { CHAT_API_KEY: 'k'.repeat(48), OPENAI_API_KEY: 'sk-test', GROQ_API_KEY: 'gsk-test' };

/**
 * The image limits each function's own loader gives it, for every function that normalizes
 * images (undefined: it handles none). A Record over FunctionName, so a new function does not
 * compile here until it says which.
 */
const imageLimitsOf: Record<FunctionName, ((env: Env) => ImageLimits) | undefined> = {
  chat: (env) => loadConfig({ ...env, ...LLM_SECRET }).images.limits,
  uploads: (env) => loadBrowserApiConfig(env).imageLimits,
  sessions: undefined,
  generate: (env) => loadGenerateConfig(env).imageLimits,
};

test.each(
  Object.entries(imageLimitsOf).filter(([, limits]) => limits !== undefined) as [
    FunctionName,
    (env: Env) => ImageLimits,
  ][],
)('%s normalizes images with the stage’s limits, not the built-in ones', (name, limitsOf) => {
  expect(limitsOf(resolvedEnv(stage, name))).toEqual({
    maxInputBytes: 8_000_000,
    maxLongEdge: 1024,
    maxPixels: 1_500_000,
    maxInputPixels: expect.any(Number),
    outputFormat: 'jpeg',
  });
});

test('every function that normalizes images gets the same limits', () => {
  const all = Object.entries(imageLimitsOf).flatMap(([name, limitsOf]) =>
    limitsOf ? [limitsOf(resolvedEnv(stage, name as FunctionName))] : [],
  );
  expect(all.length).toBeGreaterThan(1);
  for (const limits of all) expect(limits).toEqual(all[0]);
});

test('chat: the environment plus the LLM secret is a valid deployed configuration', () => {
  const env = { ...resolvedEnv(stage, 'chat'), ...LLM_SECRET };
  const config = loadConfig(env);
  expect(config.deployed).toBe(true);
  expect(config.chatApiKey).toBe('k'.repeat(48));
  expect(config.stage).toBe('staging');
  expect([...config.routes.keys()]).toEqual(['vision-fast']);
  expect(config.providers.get('groq')?.apiKey).toBe('gsk-test');
});

test('sessions: the environment plus the ElevenLabs secret configures auth, limits and ElevenLabs', () => {
  const config = loadBrowserApiConfig({ ...resolvedEnv(stage, 'sessions'), ELEVENLABS_API_KEY: 'xi-test' });
  expect(config).toMatchObject({
    sessionsTable: 'resolved-sessions_table',
    controlTable: 'resolved-control_table',
    imagesBucket: 'resolved-images_bucket',
    sessionTtlSeconds: 5400,
    uploadsUrl: 'https://abc123.lambda-url.eu-west-1.on.aws',
    elevenLabs: { apiKey: 'xi-test', agentId: 'agent_0123456789' },
    auth: {
      mode: 'jwt',
      issuer: 'https://auth.example.com/',
      audience: 'vision',
      allowedOrigins: ['https://app.example.com'],
    },
    maxUploadBytes: 8_000_000,
    maxImagesPerSession: 8,
  });
});

test('uploads: the same browser configuration, without any ElevenLabs setting', () => {
  const env = resolvedEnv(stage, 'uploads');
  const config = loadBrowserApiConfig(env);
  expect(config.elevenLabs).toBeUndefined();
  expect(config.imageLimits).toMatchObject({ maxPixels: 1_500_000 });
  expect(Object.keys(env).filter((k) => k.includes('ELEVENLABS'))).toEqual([]);
});
