// The local Lambda host itself, with small handlers run by the real runtime interface client:
// the function URL event it builds, and how the URL answers at Lambda's edges (oversized
// buffered response, a stream failing midway, a stream ended without a write, a failed init).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { FunctionUrl, type LambdaLimits } from '../../../infra/local/lambda/function-url';
import type { InvokeMode } from '../../../infra/local/lambda/stack-functions';

const HANDLERS: Record<string, string> = {
  // Buffered: answers with the event it received.
  echo: 'export const handler = async (event) => ({ statusCode: 200, headers: { "content-type": "application/json" }, cookies: ["a=1; Path=/", "b=2"], body: JSON.stringify(event) });',
  // Buffered: a body over Lambda's 6 MB response limit.
  big: 'export const handler = async () => ({ statusCode: 200, body: "x".repeat(7 * 1024 * 1024) });',
  // Streamed: two chunks, then a failure.
  failing: `export const handler = awslambda.streamifyResponse(async (event, stream) => {
    stream = awslambda.HttpResponseStream.from(stream, { statusCode: 200, headers: { "content-type": "text/plain" } });
    stream.write("one ");
    await new Promise((r) => setTimeout(r, 20));
    stream.write("two ");
    await new Promise((r) => setTimeout(r, 20));
    throw new Error("broke midway");
  });`,
  // Streamed: status and headers set, then ended without a single write.
  silent: `export const handler = awslambda.streamifyResponse(async (event, stream) => {
    stream = awslambda.HttpResponseStream.from(stream, { statusCode: 404, headers: { "x-set": "yes" } });
    stream.end();
  });`,
  // Streamed: 8 KiB in 1 KiB writes.
  long: `export const handler = awslambda.streamifyResponse(async (event, stream) => {
    stream = awslambda.HttpResponseStream.from(stream, { statusCode: 200, headers: { "content-type": "text/plain" } });
    for (let i = 0; i < 8; i++) {
      stream.write("x".repeat(1024));
      await new Promise((r) => setTimeout(r, 5));
    }
    stream.end();
  });`,
  // Buffered: never answers, so only the function timeout ends the invocation.
  hang: 'export const handler = () => new Promise((resolve) => setTimeout(resolve, 60_000));',
  // Init fails: the module throws while loading.
  broken: 'throw new Error("cannot start"); export const handler = async () => ({});',
};

let dir: string;
let server: Server;
let base: string;
const urls = new Map<string, FunctionUrl>();
const logs: string[] = [];

function functionUrl(
  name: string,
  invokeMode: InvokeMode,
  limits: Partial<LambdaLimits> = {},
  timeoutSeconds = 5,
): FunctionUrl {
  const codeDir = join(dir, name);
  return new FunctionUrl({
    name,
    handler: 'index.handler',
    codeDir,
    projectRoot: process.cwd(),
    timeoutSeconds,
    memoryMb: 256,
    invokeMode,
    environment: {},
    region: 'us-east-1',
    maxConcurrency: 2,
    limits,
    onLog: (line) => logs.push(line),
    onEvent: () => {},
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lambda-host-'));
  for (const [name, code] of Object.entries(HANDLERS)) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'index.mjs'), code);
  }
  urls.set('echo', functionUrl('echo', 'BUFFERED'));
  urls.set('big', functionUrl('big', 'BUFFERED'));
  urls.set('failing', functionUrl('failing', 'RESPONSE_STREAM'));
  urls.set('silent', functionUrl('silent', 'RESPONSE_STREAM'));
  urls.set('broken', functionUrl('broken', 'BUFFERED'));
  urls.set('hang', functionUrl('hang', 'BUFFERED', {}, 1));
  // The streamed-response limit (200 MB on Lambda), lowered so a small stream crosses it.
  urls.set('long', functionUrl('long', 'RESPONSE_STREAM', { streamedResponseBytes: 4096 }));
  server = createServer((req, res) => {
    const name = (req.url ?? '/').split('/')[1] ?? '';
    void urls.get(name)!.handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const u of urls.values()) u.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

test('the event is payload 2.0 as a function URL sends it: headers, cookies, query, base64 binary body', async () => {
  // node:http, not fetch: fetch folds repeated headers into one line before sending.
  const { status, setCookies, body } = await new Promise<{
    status: number;
    setCookies: string[];
    body: string;
  }>((resolve, reject) => {
    const req = request(`${base}/echo/a%20b/c?x=1&x=2&y=&z=%C3%A9`, { method: 'POST' }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => {
        text += c;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, setCookies: res.headers['set-cookie'] ?? [], body: text }),
      );
    });
    req.on('error', reject);
    req.setHeader('Content-Type', 'image/png');
    req.setHeader('X-Repeat', ['one', 'two']);
    req.setHeader('Cookie', 'c1=v1; c2=v2');
    req.setHeader('User-Agent', 'test-agent');
    req.end(Buffer.from([0, 1, 2, 255]));
  });
  expect(status).toBe(200);
  expect(setCookies).toEqual(['a=1; Path=/', 'b=2']);
  const event = JSON.parse(body) as LambdaFunctionURLEvent;
  expect(event).toMatchObject({
    version: '2.0',
    routeKey: '$default',
    rawPath: '/echo/a%20b/c',
    rawQueryString: 'x=1&x=2&y=&z=%C3%A9',
    cookies: ['c1=v1', 'c2=v2'],
    queryStringParameters: { x: '1,2', y: '', z: 'é' },
    isBase64Encoded: true,
    requestContext: {
      accountId: 'anonymous',
      http: {
        method: 'POST',
        path: '/echo/a%20b/c',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'test-agent',
      },
      routeKey: '$default',
      stage: '$default',
    },
  });
  expect(Buffer.from(event.body!, 'base64')).toEqual(Buffer.from([0, 1, 2, 255]));
  expect(event.headers['x-repeat']).toBe('one,two');
  expect(event.headers['content-type']).toBe('image/png');
  expect(event.headers.cookie).toBeUndefined();
  expect(Object.keys(event.headers).every((k) => k === k.toLowerCase())).toBe(true);
  expect(event.requestContext.domainName).toBe(`${event.requestContext.apiId}.lambda-url.us-east-1.on.aws`);
  expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
  expect(Math.abs(event.requestContext.timeEpoch - Date.now())).toBeLessThan(60_000);
});

test('a JSON body arrives as text, and a GET has no body at all', async () => {
  const post = (await (
    await fetch(`${base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    })
  ).json()) as LambdaFunctionURLEvent;
  expect(post).toMatchObject({ body: '{"a":1}', isBase64Encoded: false });
  const get = (await (await fetch(`${base}/echo`)).json()) as LambdaFunctionURLEvent;
  expect(get.body).toBeUndefined();
  expect(get.isBase64Encoded).toBe(false);
  expect(get.queryStringParameters).toBeUndefined();
});

test('a buffered response over 6 MB is a 502 from the URL', async () => {
  const res = await fetch(`${base}/big`);
  expect(res.status).toBe(502);
  expect(logs.join('\n')).toContain('Function.ResponseSizeTooLarge');
});

test('a stream that fails after its first bytes: the bytes arrive, then the connection breaks', async () => {
  const res = await fetch(`${base}/failing`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain');
  const reader = res.body!.getReader();
  let text = '';
  const read = async () => {
    for (;;) {
      const r = await reader.read();
      if (r.done) return;
      text += Buffer.from(r.value).toString();
    }
  };
  await expect(read()).rejects.toThrow();
  expect(text).toBe('one two ');
  // The runtime reported the failure in the stream's trailers.
  expect(logs.join('\n')).toMatch(/streamed response failed after \d+ bytes: Error: broke midway/);
});

test('a stream ended without a write: a bare 200, the status and headers it set are lost (RIC issue #97)', async () => {
  const res = await fetch(`${base}/silent`);
  expect(res.status).toBe(200);
  expect(res.headers.get('x-set')).toBeNull();
  expect(await res.text()).toBe('');
});

test('an invocation past the function timeout: the URL answers 502 and a fresh environment takes the next one', async () => {
  const started = Date.now();
  const res = await fetch(`${base}/hang`);
  expect(res.status).toBe(502);
  expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  expect(logs.join('\n')).toContain('Task timed out after 1.00 seconds');
  expect((await fetch(`${base}/hang`)).status).toBe(502);
  // A timed-out environment is never reused: each invocation had its own.
  expect(urls.get('hang')!.environments).toHaveLength(2);
  expect(urls.get('hang')!.environments[0]!.state).toBe('dead');
});

test('a module that throws at init: the URL answers 502 and the environment is replaced', async () => {
  const res = await fetch(`${base}/broken`);
  expect(res.status).toBe(502);
  expect(logs.join('\n')).toContain('INIT_REPORT Status: error');
  expect((await fetch(`${base}/broken`)).status).toBe(502);
  expect(urls.get('broken')!.environments.map((e) => e.state)).toEqual(['dead', 'dead']);
});

test('a stream over the streamed-response limit is cut where it crosses it', async () => {
  const res = await fetch(`${base}/long`);
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  let bytes = 0;
  const read = async () => {
    for (;;) {
      const r = await reader.read();
      if (r.done) return;
      bytes += r.value.length;
    }
  };
  await expect(read()).rejects.toThrow();
  expect(bytes).toBeLessThanOrEqual(4096);
  expect(logs.join('\n')).toContain('exceeded maximum allowed payload size (4096 bytes)');
});
