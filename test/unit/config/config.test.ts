import { loadConfig } from '../../../shared/config';
import { ConfigError } from '../../../shared/errors';
import { findRoute, parseRoutes, routeOffersImageTool, targetModel } from '../../../shared/routing/routes';

const known = new Set(['openai', 'anthropic', 'echo']);

test('with no key at all, every model goes to the echo provider and says so', () => {
  const c = loadConfig({});
  expect(c.echoFallback).toBe(true);
  expect(findRoute(c.routes, 'gpt-4o')!.targets.map((t) => t.id)).toEqual(['echo:echo']);
});

test('with a key, the default route passes the requested model through to that provider', () => {
  const c = loadConfig({ ANTHROPIC_API_KEY: 'k' });
  const target = findRoute(c.routes, 'claude-sonnet-4-5')!.targets[0]!;
  expect(target.provider).toBe('anthropic');
  expect(targetModel(target, 'claude-sonnet-4-5')).toBe('claude-sonnet-4-5');
  expect(c.echoFallback).toBe(false);
});

test('routes: strings and option objects, exact names before "*", route options kept', () => {
  const routes = parseRoutes(
    JSON.stringify({
      'gpt-4o': {
        targets: ['openai:gpt-4o', { target: 'anthropic:claude-sonnet-4-5', firstByteTimeoutMs: 1500 }],
        bufferWords: '... ',
        hedgeAfterMs: 700,
      },
      '*': ['echo:echo'],
    }),
    known,
  );
  const r = findRoute(routes, 'gpt-4o')!;
  expect(r.targets.map((t) => [t.provider, t.model, t.options])).toEqual([
    ['openai', 'gpt-4o', {}],
    ['anthropic', 'claude-sonnet-4-5', { firstByteTimeoutMs: 1500 }],
  ]);
  expect(r).toMatchObject({ bufferWords: '... ', hedgeAfterMs: 700 });
  expect(findRoute(routes, 'other')!.name).toBe('*');
});

test.each([
  ['{not json', /not valid JSON/],
  ['not-a-file.json', /neither JSON nor a readable file/],
  ['{"m": []}', /at m: a route needs at least one target/],
  ['{"m": ["openai"]}', /provider:model/],
  ['{"m": ["groq:llama"]}', /unknown provider "groq"/],
  ['{"m": {"targets": ["openai:x"], "bogus": 1}}', /MODEL_ROUTES is invalid/],
  [
    '{"m": {"targets": ["openai:x"], "imageGeneration": "yes"}}',
    /at m.imageGeneration: must be true or false/,
  ],
])('MODEL_ROUTES %s is refused with a precise message', (src, msg) => {
  expect(() => parseRoutes(src, known)).toThrow(msg);
});

test('a route says whether it offers the image tool; one that does not say follows IMAGE_GENERATION', () => {
  const routes = parseRoutes(
    '{"on": {"targets": ["openai:x"], "imageGeneration": true}, "off": {"targets": ["openai:x"], "imageGeneration": false}, "*": ["openai:x"]}',
    known,
  );
  const offers = (name: string, globally: boolean) => routeOffersImageTool(routes.get(name)!, globally);
  expect([offers('on', false), offers('off', true), offers('*', true), offers('*', false)]).toEqual([
    true,
    false,
    true,
    false,
  ]);
});

test('MODEL_ROUTES may be a file path', () => {
  const { writeFileSync, mkdtempSync } = require('node:fs') as typeof import('node:fs');
  const dir = mkdtempSync(`${require('node:os').tmpdir()}/routes-`);
  writeFileSync(`${dir}/r.json`, '{"*": ["openai:gpt-4o-mini"]}');
  const c = loadConfig({ OPENAI_API_KEY: 'k', MODEL_ROUTES: `${dir}/r.json` });
  expect(findRoute(c.routes, 'x')!.targets[0]!.id).toBe('openai:gpt-4o-mini');
  expect(() => loadConfig({ MODEL_ROUTES: `${dir}/missing.json` })).toThrow(ConfigError);
});

test('compatible providers: several named instances with their own keys and base URLs', () => {
  const c = loadConfig({
    COMPATIBLE_PROVIDERS: JSON.stringify({
      groq: { baseURL: 'https://api.groq.com/openai/v1', apiKeyEnv: 'GROQ_API_KEY' },
      local: { baseURL: 'http://127.0.0.1:11434/v1' },
    }),
    GROQ_API_KEY: 'gk',
    MODEL_ROUTES: '{"*": ["groq:llama-3.3-70b", "local:llava"]}',
  });
  expect(c.providers.get('groq')).toMatchObject({
    kind: 'compatible',
    apiKey: 'gk',
    baseURL: 'https://api.groq.com/openai/v1',
  });
  expect(c.providers.get('local')).toMatchObject({
    kind: 'compatible',
    baseURL: 'http://127.0.0.1:11434/v1',
  });
  expect(() => loadConfig({ COMPATIBLE_PROVIDERS: '{"openai": {"baseURL": "https://x"}}' })).toThrow(
    /built-in/,
  );
  expect(() => loadConfig({ COMPATIBLE_PROVIDERS: '{"x": {"baseURL": "not a url"}}' })).toThrow(
    /COMPATIBLE_PROVIDERS is invalid at x.baseURL/,
  );
});

test("GEMINI_API_KEY configures the gemini compatible provider at Google's OpenAI endpoint", () => {
  const c = loadConfig({ GEMINI_API_KEY: 'g' });
  expect(c.providers.get('gemini')).toMatchObject({
    kind: 'compatible',
    baseURL: expect.stringContaining('generativelanguage.googleapis.com'),
  });
  expect(findRoute(c.routes, 'gemini-2.5-flash')!.targets[0]!.provider).toBe('gemini');
});

test('bad numbers are refused', () => {
  expect(() => loadConfig({ FIRST_BYTE_TIMEOUT_MS: 'soon' })).toThrow(/FIRST_BYTE_TIMEOUT_MS/);
  expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
});

test('UPSTREAM_HTTP picks the SDK transport: node:http by default, the runtime fetch on request', () => {
  expect(loadConfig({}).upstreamHttp).toBe('node');
  expect(loadConfig({ UPSTREAM_HTTP: 'FETCH' }).upstreamHttp).toBe('fetch');
  expect(() => loadConfig({ UPSTREAM_HTTP: 'curl' })).toThrow(
    /UPSTREAM_HTTP must be "node" or "fetch" \(got "curl"\)/,
  );
});
