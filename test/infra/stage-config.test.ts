// Stage configuration: defaults, production requirements, and errors that name file and field.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadStageConfig,
  resolveStageConfig,
  StageConfigError,
  stackNameFor,
} from '../../infra/stage-config';

const SOURCE = 'infra/stages/dev.json';

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StageConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a StageConfigError');
}

test('a stage without a file gets development defaults', () => {
  expect(resolveStageConfig('dev', undefined, 'defaults')).toEqual({
    stage: 'dev',
    source: 'defaults',
    allowedOrigins: ['http://localhost:5173', 'http://localhost:8787'],
    elevenLabsAgentId: undefined,
    modelRoutes: undefined,
    compatibleProviders: undefined,
    auth: { mode: 'anonymous' },
    limits: {
      sessionTtlSeconds: 7200,
      imageRetentionDays: 1,
      maxUploadBytes: 10 * 1024 * 1024,
      imageMaxLongEdge: 1568,
      imageMaxPixels: 1_150_000,
      maxImagesPerSession: undefined,
      rateLimits: { sessionsPerIpPerMinute: 10, uploadsPerIpPerMinute: 60, requestsPerIpPerMinute: 120 },
    },
    reservedConcurrency: { chat: 50, sessions: 10, uploads: 10, generate: 5 },
    logRetentionDays: 30,
    logLevel: 'info',
    removalPolicy: 'destroy',
    tracing: false,
    allowEcho: false,
    imageGeneration: {
      enabled: false,
      autoApproveUsd: 0.02,
      perSession: 20,
      perUserPerHour: 10,
      maxUsdPerUserPerDay: 2,
    },
  });
});

test('production stages retain data and must state origins and auth explicitly', () => {
  expect(errorOf(() => resolveStageConfig('prod', undefined, 'defaults'))).toBe(
    'stage "prod" is a production stage and needs infra/stages/prod.json with at least allowedOrigins and auth',
  );
  expect(
    errorOf(() => resolveStageConfig('prod', { auth: { mode: 'anonymous' } }, 'infra/stages/prod.json')),
  ).toBe('infra/stages/prod.json: allowedOrigins is required for production stage "prod"');
  expect(
    errorOf(() =>
      resolveStageConfig('prod', { allowedOrigins: ['https://a.example'] }, 'infra/stages/prod.json'),
    ),
  ).toMatch(/^infra\/stages\/prod.json: auth is required for production stage "prod"/);
  const prod = resolveStageConfig(
    'prod',
    { allowedOrigins: ['https://a.example'], auth: { mode: 'anonymous' } },
    'x',
  );
  expect(prod.removalPolicy).toBe('retain');
  expect(
    resolveStageConfig('prod-eu', { allowedOrigins: ['https://a.example'], auth: { mode: 'anonymous' } }, 'x')
      .removalPolicy,
  ).toBe('retain');
  expect(resolveStageConfig('dev', { removalPolicy: 'retain' }, SOURCE).removalPolicy).toBe('retain');
});

test('every invalid field is reported with its path', () => {
  const message = errorOf(() =>
    resolveStageConfig(
      'dev',
      {
        allowedOrigins: ['https://app.example.com/', '*'],
        auth: { mode: 'jwt', issuer: '', audience: 'x', jwksUrl: 'http://insecure.example/jwks' },
        logRetentionDays: 2,
        reservedConcurrency: { chat: 0 },
        limits: { maxUploadBytes: -1 },
        colour: 'blue',
      },
      SOURCE,
    ),
  );
  expect(message).toBe(
    [
      'infra/stages/dev.json is invalid:',
      '  - allowedOrigins.0: must be an origin like "https://app.example.com" (scheme and host, optional port; no path, no "*")',
      '  - allowedOrigins.1: must be an origin like "https://app.example.com" (scheme and host, optional port; no path, no "*")',
      '  - auth.issuer: is required in jwt mode',
      '  - auth.jwksUrl: must be an https URL',
      '  - limits.maxUploadBytes: Too small: expected number to be >=1024',
      '  - reservedConcurrency.chat: Too small: expected number to be >=1',
      '  - logRetentionDays: must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653',
      '  - (root): Unrecognized key: "colour"',
    ].join('\n'),
  );
});

test("model routes are checked with the chat function's own parser, providers included", () => {
  expect(
    errorOf(() => resolveStageConfig('dev', { modelRoutes: { '*': ['mistral:large'] } }, SOURCE)),
  ).toMatch(
    /^infra\/stages\/dev.json \(modelRoutes\/compatibleProviders\): MODEL_ROUTES route "\*" names unknown provider "mistral"/,
  );
  const ok = resolveStageConfig(
    'dev',
    {
      modelRoutes: { '*': ['mistral:large'] },
      compatibleProviders: {
        mistral: { baseURL: 'https://api.mistral.ai/v1', apiKeyEnv: 'MISTRAL_API_KEY' },
      },
    },
    SOURCE,
  );
  expect(ok.modelRoutes).toEqual({ '*': ['mistral:large'] });
  expect(
    errorOf(() =>
      resolveStageConfig(
        'dev',
        { compatibleProviders: { x: { baseURL: 'https://x.example', apiKeyEnv: 'CHAT_API_KEY' } } },
        SOURCE,
      ),
    ),
  ).toBe(
    'infra/stages/dev.json: compatibleProviders.x.apiKeyEnv "CHAT_API_KEY" is reserved for a built-in key',
  );
  expect(
    errorOf(() =>
      resolveStageConfig(
        'dev',
        { compatibleProviders: { x: { baseURL: 'https://x.example', apiKeyEnv: 'lower' } } },
        SOURCE,
      ),
    ),
  ).toMatch(/compatibleProviders.x.apiKeyEnv: must be an environment-variable name/);
});

test('images live at least as long as sessions', () => {
  const threeDays = resolveStageConfig('dev', { limits: { sessionTtlSeconds: 2.5 * 86_400 } }, SOURCE);
  expect(threeDays.limits.imageRetentionDays).toBe(3);
  expect(
    errorOf(() =>
      resolveStageConfig(
        'dev',
        { limits: { sessionTtlSeconds: 2.5 * 86_400, imageRetentionDays: 2 } },
        SOURCE,
      ),
    ),
  ).toBe(
    'infra/stages/dev.json: limits.imageRetentionDays (2) must be at least the session TTL in days (3), or images would vanish from live sessions',
  );
});

test('stage names are checked before they reach resource names', () => {
  for (const bad of ['Dev', '1dev', 'dev_1', '', 'a-very-long-stage-name-indeed']) {
    expect(errorOf(() => resolveStageConfig(bad, undefined, 'defaults'))).toMatch(
      /is not a valid stage name/,
    );
  }
});

test('each stage has its own stack name', () => {
  expect(stackNameFor('dev')).toBe('elevenlabs-vision-dev');
  expect(new Set(['dev', 'staging', 'prod', 'alice'].map(stackNameFor)).size).toBe(4);
});

test('stage files are read from infra/stages/<stage>.json; broken JSON is named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stages-'));
  writeFileSync(
    join(dir, 'qa.json'),
    JSON.stringify({ allowedOrigins: ['https://qa.example.com'], logLevel: 'debug' }),
  );
  writeFileSync(join(dir, 'broken.json'), '{ "allowedOrigins": [ }');
  const qa = loadStageConfig('qa', dir);
  expect(qa).toMatchObject({
    source: 'infra/stages/qa.json',
    allowedOrigins: ['https://qa.example.com'],
    logLevel: 'debug',
  });
  expect(loadStageConfig('other', dir).source).toBe('defaults');
  expect(errorOf(() => loadStageConfig('broken', dir))).toMatch(
    /^infra\/stages\/broken.json is not valid JSON: /,
  );
});

test('the documented example (infra/stages/prod.example.json) is a valid production stage', () => {
  const dir = join(__dirname, '..', '..', 'infra', 'stages');
  const example = JSON.parse(readFileSync(join(dir, 'prod.example.json'), 'utf8')) as unknown;
  const config = resolveStageConfig('prod', example, 'infra/stages/prod.example.json');
  expect(config).toMatchObject({ removalPolicy: 'retain', auth: { mode: 'jwt' } });
});
