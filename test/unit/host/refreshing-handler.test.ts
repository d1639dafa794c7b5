import { refreshingHandler } from '../../../functions/host/refreshing-handler';
import { type HttpRequest, jsonResponse } from '../../../shared/http/types';

const req: HttpRequest = {
  method: 'GET',
  path: '/',
  headers: {},
  query: {},
  body: Buffer.alloc(0),
  sourceIp: '',
};
const signal = new AbortController().signal;
const body = async (r: Promise<{ body?: string }>) => JSON.parse((await r).body!);

function harness(texts: string[]) {
  let clock = 0;
  let reads = 0;
  const builds: string[] = [];
  const errors: unknown[] = [];
  const h = refreshingHandler({
    readSecrets: async () => {
      const t = texts[Math.min(reads, texts.length - 1)]!;
      reads++;
      if (t === 'FAIL') throw new Error('secrets manager down');
      return t;
    },
    build: async (text) => {
      builds.push(text);
      return async () => jsonResponse(200, { keys: text });
    },
    refreshMs: 1000,
    now: () => clock,
    onError: (e) => errors.push(e),
  });
  return { h, builds, errors, reads: () => reads, tick: (ms: number) => (clock += ms) };
}

test('serves the service built at cold start, and re-reads the secret only after refreshMs', async () => {
  const t = harness(['v1']);
  expect(await body(t.h.handle(req, signal))).toEqual({ keys: 'v1' });
  await t.h.handle(req, signal);
  expect(t.reads()).toBe(1);
  t.tick(1000);
  await t.h.handle(req, signal);
  await t.h.settled();
  expect(t.reads()).toBe(2);
  // Unchanged secret: no rebuild.
  expect(t.builds).toEqual(['v1']);
});

test('a changed secret builds a new service, used from the next request on', async () => {
  const t = harness(['v1', 'v2']);
  await t.h.handle(req, signal);
  t.tick(1000);
  // The request that triggers the check is not held up by it.
  expect(await body(t.h.handle(req, signal))).toEqual({ keys: 'v1' });
  await t.h.settled();
  expect(await body(t.h.handle(req, signal))).toEqual({ keys: 'v2' });
  expect(t.builds).toEqual(['v1', 'v2']);
});

test('a failing check keeps the working service and reports the error', async () => {
  const t = harness(['v1', 'FAIL']);
  await t.h.handle(req, signal);
  t.tick(5000);
  await t.h.handle(req, signal);
  await t.h.settled();
  expect(await body(t.h.handle(req, signal))).toEqual({ keys: 'v1' });
  expect(t.errors).toHaveLength(1);
});

test('a cold start that could not read the secret fails that request, and the next one builds again', async () => {
  const t = harness(['FAIL', 'v1']);
  await expect(t.h.handle(req, signal)).rejects.toThrow('secrets manager down');
  expect(await body(t.h.handle(req, signal))).toEqual({ keys: 'v1' });
  expect(t.builds).toEqual(['v1']);
});
