// Issue 9, item 2: what fails while WE build or send a request (our transform, serializing odd
// values, an SDK's client-side checks, image delivery) is ours or the caller's, never the
// target's. The real SDKs against the fakes: such a failure reaches no upstream, is a 400/500,
// and never counts against a breaker; a real network failure still does.
import { createServer } from 'node:net';
import type { ProviderConfig } from '../../../shared/config';
import { type UpstreamError, ValidationError } from '../../../shared/errors';
import { type ChatRequest, chatRequestSchema } from '../../../shared/openai/schema';
import { createAnthropicProvider } from '../../../shared/providers/anthropic';
import { createHttpTransport, type FetchLike } from '../../../shared/providers/http-transport';
import { createOpenAIProvider } from '../../../shared/providers/openai';
import type { Provider } from '../../../shared/providers/types';
import { countsAsFailure } from '../../../shared/providers/upstream-error';
import type { Admission, BreakerLike } from '../../../shared/routing/breaker-types';
import {
  AllTargetsFailedError,
  DEFAULT_FALLBACK_SETTINGS,
  openStream,
} from '../../../shared/routing/fallback';
import { parseRoutes } from '../../../shared/routing/routes';
import { type FakeAnthropicServer, startAnthropicServer } from '../../fakes/anthropic-server';
import { type FakeOpenAIServer, startOpenAIServer } from '../../fakes/openai-server';

const base = chatRequestSchema.parse({
  model: 'm',
  stream: true,
  messages: [{ role: 'user', content: 'hi' }],
});

/** Tool parameters nested `levels` deep: JSON.stringify overflows the stack on them. */
function deepTools(levels: number): ChatRequest['tools'] {
  let value: Record<string, unknown> = { type: 'string' };
  for (let i = 0; i < levels; i++) value = { type: 'object', properties: { a: value } };
  return [{ type: 'function', function: { name: 'f', parameters: value } }];
}

/** A value JSON cannot encode at all: the SDKs' serialization throws a TypeError. */
function cyclicTools(): ChatRequest['tools'] {
  const parameters: Record<string, unknown> = { type: 'object' };
  parameters.self = parameters;
  return [{ type: 'function', function: { name: 'f', parameters } }];
}

/** A TCP port nobody listens on: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function firstError(provider: Provider, request: ChatRequest): Promise<UpstreamError> {
  const it = provider
    .stream({ model: 'x', request, signal: new AbortController().signal })
    [Symbol.asyncIterator]();
  try {
    await it.next();
  } catch (err) {
    return err as UpstreamError;
  }
  throw new Error('the provider did not fail');
}

const transports: [string, { fetch?: FetchLike }][] = [
  ['runtime fetch', {}],
  ['node:http transport', { fetch: createHttpTransport() }],
];

describe.each(transports)('through %s', (_name, transport) => {
  let openaiUp: FakeOpenAIServer;
  let anthropicUp: FakeAnthropicServer;
  let providers: Map<string, Provider>;

  function openaiConfig(baseURL: string): ProviderConfig {
    return { name: 'openai', kind: 'openai', apiKey: 'sk-test', baseURL, imageDelivery: 'inline' };
  }
  function anthropicConfig(baseURL: string): ProviderConfig {
    return { name: 'anthropic', kind: 'anthropic', apiKey: 'sk-ant-test', baseURL, imageDelivery: 'inline' };
  }

  beforeEach(async () => {
    [openaiUp, anthropicUp] = await Promise.all([startOpenAIServer(), startAnthropicServer()]);
    providers = new Map([
      ['openai', createOpenAIProvider(openaiConfig(`${openaiUp.url}/v1`), { timeoutMs: 5000, ...transport })],
      [
        'anthropic',
        createAnthropicProvider(anthropicConfig(anthropicUp.url), {
          defaultMaxTokens: 256,
          timeoutMs: 5000,
          ...transport,
        }),
      ],
    ]);
  });
  afterEach(async () => {
    await Promise.all([openaiUp.close(), anthropicUp.close()]);
  });

  const sent = () => openaiUp.requests.length + anthropicUp.requests.length;

  test.each(['openai', 'anthropic'])(
    '%s: a body our serialization cannot encode is a logged 500 of ours, sent nowhere',
    async (name) => {
      for (const tools of [deepTools(5000), cyclicTools()]) {
        const err = await firstError(providers.get(name)!, { ...base, tools });
        expect(err).toMatchObject({
          status: 500,
          code: 'internal_error',
          errorClass: 'local_internal_error',
        });
        expect(err.retryable).toBe(false);
        expect(countsAsFailure(err)).toBe(false);
      }
      expect(sent()).toBe(0);
    },
  );

  test('anthropic: an image its transform refuses is the caller 400, field named, not counted', async () => {
    const request = chatRequestSchema.parse({
      model: 'm',
      messages: [
        {
          role: 'user',
          content: [{ type: 'image_url', image_url: { url: 'data:image/svg+xml;base64,PHN2Zz4=' } }],
        },
      ],
    });
    const err = await firstError(providers.get('anthropic')!, request);
    expect(err).toMatchObject({ status: 400, errorClass: 'local_invalid_request' });
    expect(err.param).toMatch(/^messages\[0\]/);
    expect(err.cause).toBeInstanceOf(ValidationError);
    expect(countsAsFailure(err)).toBe(false);
    expect(sent()).toBe(0);
  });

  test.each(['openai', 'anthropic'])(
    '%s: a refused connection still counts against the target',
    async (name) => {
      const url = `http://127.0.0.1:${await closedPort()}`;
      const provider =
        name === 'openai'
          ? createOpenAIProvider(openaiConfig(`${url}/v1`), { timeoutMs: 5000, ...transport })
          : createAnthropicProvider(anthropicConfig(url), {
              defaultMaxTokens: 256,
              timeoutMs: 5000,
              ...transport,
            });
      const err = await firstError(provider, base);
      expect(err.errorClass).toBe('connection');
      expect(countsAsFailure(err)).toBe(true);
    },
  );

  test('20 requests that cannot be built leave every breaker untouched; then a normal turn flows', async () => {
    const route = parseRoutes(
      JSON.stringify({ m: ['openai:gpt', 'anthropic:claude'] }),
      new Set(providers.keys()),
    ).get('m')!;
    const failures: string[] = [];
    let successes = 0;
    const breaker: BreakerLike = {
      admit: async (): Promise<Admission> => ({ allowed: true, state: 'closed', probe: false }),
      recordFailure: async (target, _admission, errorClass) => {
        failures.push(`${target}:${errorClass}`);
      },
      recordSuccess: async () => {
        successes += 1;
      },
    };
    const logged: { level: string; msg: string }[] = [];
    const deps = {
      providers,
      breaker,
      settings: DEFAULT_FALLBACK_SETTINGS,
      signal: new AbortController().signal,
      log: (level: 'warn' | 'error', msg: string) => {
        logged.push({ level, msg });
      },
    };
    for (let i = 0; i < 20; i++) {
      const tools = i % 2 === 0 ? deepTools(5000) : cyclicTools();
      const err = await openStream(route, { ...base, tools }, deps).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(AllTargetsFailedError);
      expect(err).toMatchObject({ status: 500, code: 'internal_error' });
    }
    expect(failures).toEqual([]);
    expect(sent()).toBe(0);
    // Each failed build is logged as an error (a 500 is ours to fix), once per target and turn.
    expect(logged.filter((l) => l.level === 'error')).toHaveLength(40);
    const ok = await openStream(route, base, deps);
    expect(ok.target.id).toBe('openai:gpt');
    ok.settle();
    expect(successes).toBe(1);
  });

  test('image delivery that fails for a target is ours: a 500, no breaker failure', async () => {
    const route = parseRoutes(JSON.stringify({ m: ['openai:gpt'] }), new Set(providers.keys())).get('m')!;
    const failures: string[] = [];
    const breaker: BreakerLike = {
      admit: async () => ({ allowed: true, state: 'closed', probe: false }),
      recordFailure: async (target) => {
        failures.push(target);
      },
      recordSuccess: async () => {},
    };
    const err = await openStream(route, base, {
      providers,
      breaker,
      settings: DEFAULT_FALLBACK_SETTINGS,
      signal: new AbortController().signal,
      prepareRequest: async () => {
        throw new Error('S3 read failed');
      },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ status: 500, code: 'internal_error' });
    expect(failures).toEqual([]);
    expect(sent()).toBe(0);
  });
});
