// The node:http transport the provider SDKs are given, against a real loopback server: what
// goes on the wire, streaming without buffering, decoding, aborts, cuts, keep-alive, and the
// requests it leaves to the runtime's fetch.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { createHttpTransport, type FetchLike } from '../../../shared/providers/http-transport';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server;
let url: string;
let handler: Handler;
let connections: number;

beforeEach(async () => {
  connections = 0;
  handler = (_req, res) => res.end('ok');
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => handler(req, res, body));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('sends method, headers and a string body, and exposes status, status text and headers', async () => {
  let seen: { method?: string; headers?: IncomingMessage['headers']; body?: string } = {};
  handler = (req, res, body) => {
    seen = { method: req.method, headers: req.headers, body };
    res.statusCode = 201;
    res.statusMessage = 'Made';
    res.setHeader('x-twice', ['a', 'b']);
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
  };
  const fetch = createHttpTransport();
  const headers = new Headers({ 'content-type': 'application/json', 'x-api-key': 'k' });
  const res = await fetch(`${url}/v1/messages?beta=true`, { method: 'POST', headers, body: '{"é":1}' });
  expect(seen.method).toBe('POST');
  expect(seen.headers?.['x-api-key']).toBe('k');
  expect(seen.headers?.['content-length']).toBe(String(Buffer.byteLength('{"é":1}')));
  expect(seen.headers?.['accept-encoding']).toBe('gzip, deflate, br');
  expect(seen.body).toBe('{"é":1}');
  expect(res.status).toBe(201);
  expect(res.ok).toBe(true);
  expect(res.statusText).toBe('Made');
  expect(res.headers.get('x-twice')).toBe('a, b');
  expect(await res.json()).toEqual({ ok: true });
});

test('headers given as a plain object or as pairs arrive too', async () => {
  const seen: string[] = [];
  handler = (req, res) => {
    seen.push(String(req.headers['x-one']));
    res.end();
  };
  const fetch = createHttpTransport();
  await (await fetch(url, { method: 'POST', headers: { 'x-one': 'object' }, body: '' })).text();
  await (await fetch(url, { method: 'POST', headers: [['x-one', 'pairs']], body: '' })).text();
  expect(seen).toEqual(['object', 'pairs']);
});

test('streams the body as it arrives: the first chunk is readable before the server ends', async () => {
  let release!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: first\n\n');
    void released.then(() => res.end('data: last\n\n'));
  };
  const fetch = createHttpTransport();
  const res = await fetch(url, { method: 'POST', body: '{}' });
  const reader = res.body!.getReader();
  const first = await reader.read();
  expect(Buffer.from(first.value!).toString()).toBe('data: first\n\n');
  release();
  let rest = '';
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += Buffer.from(r.value).toString();
  expect(rest).toBe('data: last\n\n');
});

test.each([
  ['gzip', (b: Buffer) => gzipSync(b)],
  ['br', (b: Buffer) => brotliCompressSync(b)],
])('a %s-encoded response is decoded', async (encoding, encode) => {
  const text = JSON.stringify({ error: { message: 'overloaded'.repeat(50) } });
  handler = (_req, res) => {
    res.writeHead(529, { 'content-encoding': encoding, 'content-type': 'application/json' });
    res.end(encode(Buffer.from(text)));
  };
  const res = await createHttpTransport()(url, { method: 'POST', body: '{}' });
  expect(res.status).toBe(529);
  expect(await res.text()).toBe(text);
});

test('a 204 has no body', async () => {
  handler = (_req, res) => {
    res.statusCode = 204;
    res.end();
  };
  const res = await createHttpTransport()(url, { method: 'DELETE' });
  expect(res.status).toBe(204);
  expect(res.body).toBeNull();
});

test('sequential requests reuse one keep-alive connection', async () => {
  const fetch = createHttpTransport();
  for (let i = 0; i < 3; i++) await (await fetch(url, { method: 'POST', body: String(i) })).text();
  expect(connections).toBe(1);
});

test('an upstream slower than the keep-alive idle time still answers', async () => {
  handler = (_req, res) => {
    setTimeout(() => res.end('late'), 150);
  };
  const res = await createHttpTransport({ keepAliveMs: 50 })(url, { method: 'POST', body: '{}' });
  expect(await res.text()).toBe('late');
});

test('aborting before the response rejects with the signal reason and closes the request', async () => {
  const closed = new Promise<void>((resolve) => {
    handler = (req) => req.socket.once('close', () => resolve());
  });
  const ctrl = new AbortController();
  const pending = createHttpTransport()(url, { method: 'POST', body: '{}', signal: ctrl.signal });
  await new Promise((r) => setTimeout(r, 30));
  const reason = new Error('first-byte timeout');
  ctrl.abort(reason);
  await expect(pending).rejects.toBe(reason);
  await closed;
});

test('an already aborted signal rejects without a request', async () => {
  let requests = 0;
  handler = (_req, res) => {
    requests++;
    res.end();
  };
  const ctrl = new AbortController();
  ctrl.abort();
  await expect(
    createHttpTransport()(url, { method: 'POST', body: '{}', signal: ctrl.signal }),
  ).rejects.toMatchObject({
    name: 'AbortError',
  });
  expect(requests).toBe(0);
});

test('aborting mid-body errors the body with the reason', async () => {
  handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: one\n\n');
  };
  const ctrl = new AbortController();
  const res = await createHttpTransport()(url, { method: 'POST', body: '{}', signal: ctrl.signal });
  const reader = res.body!.getReader();
  await reader.read();
  const reason = new Error('client went away');
  ctrl.abort(reason);
  await expect(reader.read()).rejects.toBe(reason);
});

test('a connection cut mid-body is an error, not a clean end', async () => {
  handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: one\n\n', () => setTimeout(() => res.socket?.destroy(), 10));
  };
  const res = await createHttpTransport()(url, { method: 'POST', body: '{}' });
  await expect(res.text()).rejects.toThrow();
});

test('a refused connection rejects like fetch: a TypeError with the cause', async () => {
  const { port } = server.address() as AddressInfo;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const err = await createHttpTransport()(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}' }).catch(
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TypeError);
  expect((err as TypeError & { cause: { code: string } }).cause.code).toBe('ECONNREFUSED');
  // afterEach closes again; give it a server to close.
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

test('what it does not handle (a Request object, a streamed body) goes to the fallback', async () => {
  const used: string[] = [];
  const fallback: FetchLike = (input, init) => {
    used.push(input instanceof Request ? 'request' : typeof init?.body);
    return globalThis.fetch(input, init);
  };
  const fetch = createHttpTransport({ fallback });
  handler = (_req, res, body) => res.end(`got ${body}`);
  const viaRequest = await fetch(new Request(url, { method: 'POST', body: 'a' }));
  expect(await viaRequest.text()).toBe('got a');
  const stream = new ReadableStream({
    start(c) {
      c.enqueue(new TextEncoder().encode('b'));
      c.close();
    },
  });
  const viaStream = await fetch(url, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
  expect(await viaStream.text()).toBe('got b');
  const direct = await fetch(url, { method: 'POST', body: 'c' });
  expect(await direct.text()).toBe('got c');
  expect(used).toEqual(['request', 'object']);
});

describe('a pooled connection the server closed', () => {
  /** The server drops (without answering) the first request that arrives on a reused socket. */
  function dropFirstReuse(times: number) {
    const seen = new WeakMap<object, number>();
    let dropped = 0;
    handler = (req, res, body) => {
      const n = (seen.get(req.socket) ?? 0) + 1;
      seen.set(req.socket, n);
      if (n > 1 && dropped < times) {
        dropped++;
        req.socket.destroy();
        return;
      }
      res.end(`got ${body}`);
    };
  }

  test('is replaced by a new connection, once, and the request still answers', async () => {
    dropFirstReuse(1);
    const fetch = createHttpTransport();
    expect(await (await fetch(url, { method: 'POST', body: 'a' })).text()).toBe('got a');
    expect(await (await fetch(url, { method: 'POST', body: 'b' })).text()).toBe('got b');
    expect(connections).toBe(2);
  });

  test('a failure on the fresh connection too is reported, not retried again', async () => {
    let requests = 0;
    handler = (req, res) => {
      requests++;
      if (requests === 1) res.end('first');
      else req.socket.destroy();
    };
    const fetch = createHttpTransport();
    await (await fetch(url, { method: 'POST', body: 'a' })).text();
    const err = await fetch(url, { method: 'POST', body: 'b' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(requests).toBe(3); // the first, the reused socket, one retry on a new connection
  });

  test('a first request on a new connection that fails is not retried', async () => {
    let requests = 0;
    handler = (req) => {
      requests++;
      req.socket.destroy();
    };
    const err = await createHttpTransport()(url, { method: 'POST', body: 'a' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(requests).toBe(1);
  });
});
