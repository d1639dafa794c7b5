// fetchImageSafely against real sockets on loopback. Test servers listen on 127.0.0.2, which
// the injected address policy treats as "the public internet"; every other address, 127.0.0.1
// included, stays private. A TCP "trap" on 127.0.0.1 (and ::1) counts connections, to prove
// that refused URLs are refused before anything is dialled.
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { ApiError } from '../../../shared/errors';
import type { ResolveHost } from '../../../shared/images/guarded-lookup';
import { fetchImageSafely, type SafeFetchOptions } from '../../../shared/images/safe-fetch';
import { solidImage } from '../../fixtures/images/make-images';

const PUBLIC_TEST_IP = '127.0.0.2';
const onlyTestServerIsPublic = (ip: string) => ip === PUBLIC_TEST_IP;

interface Trap {
  port: number;
  connections: number;
  close(): Promise<void>;
}

/** A TCP listener that only counts who dials it. */
async function startTrap(host: string): Promise<Trap | null> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    trap.connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.destroy();
  });
  const trap: Trap = {
    port: 0,
    connections: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
  } catch {
    return null; // e.g. no IPv6 loopback in this container
  }
  trap.port = (server.address() as AddressInfo).port;
  return trap;
}

interface TestServer {
  port: number;
  url(path: string, host?: string): string;
  /** Bytes the server managed to write per path, to see where the client cut it off. */
  written: Map<string, number>;
  close(): Promise<void>;
}

async function startServer(
  handler: (req: http.IncomingMessage, res: http.ServerResponse, server: TestServer) => void,
) {
  const httpServer = http.createServer((req, res) => handler(req, res, testServer));
  const testServer: TestServer = {
    port: 0,
    url: (path, host = PUBLIC_TEST_IP) => `http://${host}:${testServer.port}${path}`,
    written: new Map(),
    close: () =>
      new Promise<void>((resolve) => {
        httpServer.closeAllConnections();
        httpServer.close(() => resolve());
      }),
  };
  await new Promise<void>((resolve) => httpServer.listen(0, PUBLIC_TEST_IP, () => resolve()));
  testServer.port = (httpServer.address() as AddressInfo).port;
  return testServer;
}

/** A resolver answering from a fixed table, recording what it was asked. */
function fixedDns(table: Record<string, string[]>): ResolveHost & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (hostname: string) => {
    asked.push(hostname);
    const answers = table[hostname];
    if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return answers.map((address) => ({ address, family: net.isIPv6(address) ? (6 as const) : (4 as const) }));
  };
  return Object.assign(resolve, { asked });
}

async function failure(url: string, opts: SafeFetchOptions): Promise<ApiError> {
  try {
    await fetchImageSafely(url, opts);
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error(`expected ${url} to be refused`);
}

let trap4: Trap;
let trap6: Trap | null;
let png: Buffer;
let server: TestServer;

beforeAll(async () => {
  png = await solidImage('png', 32, 24);
  trap4 = (await startTrap('127.0.0.1'))!;
  trap6 = await startTrap('::1');
  server = await startServer((req, res, self) => {
    const path = req.url ?? '/';
    const chain = /^\/chain\/(\d+)\/(\d+)$/.exec(path);
    if (chain) {
      const [at, total] = [Number(chain[1]), Number(chain[2])];
      if (at < total) {
        res.writeHead(302, { location: `/chain/${at + 1}/${total}` }).end();
      } else {
        res.writeHead(200, { 'content-type': 'image/png' }).end(png);
      }
      return;
    }
    switch (path) {
      case '/img.png':
        // Proves the socket really went to the address the lookup approved.
        res.setHeader('x-local-address', req.socket.localAddress ?? '');
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length }).end(png);
        return;
      case '/redirect-to-private':
        res.writeHead(302, { location: `http://127.0.0.1:${trap4.port}/img.png` }).end();
        return;
      case '/redirect-to-private-name':
        res.writeHead(302, { location: `http://sneaky.test:${trap4.port}/img.png` }).end();
        return;
      case '/redirect-to-file':
        res.writeHead(301, { location: 'file:///etc/passwd' }).end();
        return;
      case '/set-cookie':
        res.writeHead(302, { 'set-cookie': 'session=secret; Path=/', location: '/echo-headers' }).end();
        return;
      case '/echo-headers':
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.headers));
        return;
      case '/missing':
        res.writeHead(404, 'Not Found').end('nope');
        return;
      case '/gzip':
        res.writeHead(200, { 'content-type': 'image/png', 'content-encoding': 'gzip' }).end(png);
        return;
      case '/big-declared':
        // Honest content-length over the cap: refused from the header alone.
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': 5000 }).end(Buffer.alloc(5000));
        return;
      case '/big-chunked': {
        // No content-length: streams 64 KB chunks (up to 32 MB) until the client hangs up.
        res.writeHead(200, { 'content-type': 'image/png' });
        let sent = 0;
        const chunk = Buffer.alloc(64 * 1024, 1);
        const pump = () => {
          while (sent < 32 * 1024 * 1024 && !res.destroyed) {
            sent += chunk.length;
            self.written.set(path, sent);
            if (!res.write(chunk)) {
              res.once('drain', pump);
              return;
            }
          }
          if (!res.destroyed) res.end();
        };
        pump();
        return;
      }
      case '/hang':
        return; // never answers
      case '/stall-body':
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length });
        res.write(png.subarray(0, 10)); // and never the rest
        return;
      default:
        res.writeHead(404).end();
    }
  });
});

afterAll(async () => {
  await server.close();
  await trap4.close();
  await trap6?.close();
});

describe('SSRF: refused before any connection', () => {
  const base: SafeFetchOptions = { maxBytes: 1024 * 1024, timeoutMs: 3000, allowHttp: true };

  test.each([
    ['loopback', 'https://127.0.0.1:{v4}/'],
    ['IPv4-mapped IPv6 loopback', 'https://[::ffff:127.0.0.1]:{v4}/'],
    ['decimal integer host', 'https://2130706433:{v4}/'],
    ['hex integer host', 'https://0x7f000001:{v4}/'],
    ['octal dotted host', 'https://0177.0.0.1:{v4}/'],
    ['short dotted host', 'https://127.1:{v4}/'],
  ])('%s (%s) is url_resolves_to_private_address and dials nothing', async (_name, template) => {
    const dns = fixedDns({});
    const before = trap4.connections;
    const err = await failure(template.replace('{v4}', String(trap4.port)), { ...base, lookup: dns });
    expect(err.code).toBe('url_resolves_to_private_address');
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/127\.0\.0\.1|::ffff:7f00:1/);
    expect(trap4.connections).toBe(before);
    expect(dns.asked).toEqual([]);
  });

  test('IPv6 loopback https://[::1]/ dials nothing', async () => {
    const port = trap6?.port ?? 443;
    const before = trap6?.connections ?? 0;
    const err = await failure(`https://[::1]:${port}/`, base);
    expect(err.code).toBe('url_resolves_to_private_address');
    expect(trap6?.connections ?? 0).toBe(before);
  });

  test.each([
    ['cloud metadata', 'http://169.254.169.254/latest/meta-data/'],
    ['private network', 'https://10.0.0.1/'],
    ['AWS IPv6 metadata', 'http://[fd00:ec2::254]/latest/meta-data/'],
    ['unspecified', 'http://0.0.0.0/'],
  ])('%s (%s) is refused with the default policy', async (_name, url) => {
    const started = Date.now();
    const err = await failure(url, { ...base, lookup: fixedDns({}) });
    expect(err.code).toBe('url_resolves_to_private_address');
    // Refused, not attempted: an attempt at these would hang until the timeout.
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('a host name whose DNS answer is 127.0.0.1 is refused at connect time', async () => {
    const dns = fixedDns({ 'innocent.example': ['127.0.0.1'] });
    const before = trap4.connections;
    const err = await failure(`https://innocent.example:${trap4.port}/cat.png`, { ...base, lookup: dns });
    expect(err.code).toBe('url_resolves_to_private_address');
    expect(err.message).toMatch(/innocent\.example resolves to 127\.0\.0\.1/);
    expect(dns.asked).toEqual(['innocent.example']);
    expect(trap4.connections).toBe(before);
  });

  test.each([
    ['public first', ['93.184.216.34', '127.0.0.1']],
    ['private first', ['10.1.2.3', '93.184.216.34']],
    ['IPv6 private among public', ['93.184.216.34', '2606:4700::1', 'fd00::1']],
  ])('a host resolving to public and private addresses (%s) is refused outright', async (_name, answers) => {
    const before = trap4.connections;
    const err = await failure(`https://mixed.example:${trap4.port}/`, {
      ...base,
      lookup: fixedDns({ 'mixed.example': answers }),
    });
    expect(err.code).toBe('url_resolves_to_private_address');
    expect(trap4.connections).toBe(before);
  });

  test.each([
    ['file', 'file:///etc/passwd', 'url_scheme_not_allowed'],
    ['ftp', 'ftp://example.com/cat.png', 'url_scheme_not_allowed'],
    ['gopher', 'gopher://example.com/', 'url_scheme_not_allowed'],
    ['data', 'data:image/png;base64,AAAA', 'url_scheme_not_allowed'],
    ['user and password', 'https://user:secret@example.com/cat.png', 'url_not_allowed'],
    ['password only', 'https://:secret@example.com/cat.png', 'url_not_allowed'],
    ['malformed', 'not a url at all', 'url_not_allowed'],
    ['9 KB long', `https://example.com/${'a'.repeat(9000)}`, 'url_not_allowed'],
  ])('%s URL is refused without any DNS lookup', async (_name, url, code) => {
    const dns = fixedDns({ 'example.com': ['93.184.216.34'] });
    const err = await failure(url, { ...base, lookup: dns });
    expect(err.code).toBe(code);
    expect(dns.asked).toEqual([]);
  });

  test('http:// is refused unless allowHttp', async () => {
    const dns = fixedDns({ 'example.com': ['93.184.216.34'] });
    const err = await failure('http://example.com/cat.png', { maxBytes: 1000, timeoutMs: 1000, lookup: dns });
    expect(err.code).toBe('url_scheme_not_allowed');
    expect(err.message).toMatch(/https/);
    expect(dns.asked).toEqual([]);
  });
});

describe('fetching from an allowed server', () => {
  const opts = (extra: Partial<SafeFetchOptions> = {}): SafeFetchOptions => ({
    maxBytes: 1024 * 1024,
    timeoutMs: 3000,
    allowHttp: true,
    addressPolicy: onlyTestServerIsPublic,
    ...extra,
  });

  test('downloads a real PNG', async () => {
    const got = await fetchImageSafely(server.url('/img.png'), opts());
    expect(got.bytes.equals(png)).toBe(true);
    expect(got.finalUrl).toBe(server.url('/img.png'));
    expect(got.contentType).toBe('image/png');
  });

  test('connects to exactly the address the guarded lookup approved', async () => {
    const dns = fixedDns({ 'images.test': [PUBLIC_TEST_IP] });
    const got = await fetchImageSafely(server.url('/img.png', 'images.test'), opts({ lookup: dns }));
    expect(got.bytes.equals(png)).toBe(true);
    expect(dns.asked).toEqual(['images.test']);
  });

  test('a 302 from the allowed server to 127.0.0.1 is refused and not followed', async () => {
    const before = trap4.connections;
    const err = await failure(server.url('/redirect-to-private'), opts());
    expect(err.code).toBe('url_resolves_to_private_address');
    expect(trap4.connections).toBe(before);
  });

  test('a redirect to a host name resolving privately is refused at connect time', async () => {
    const before = trap4.connections;
    const dns = fixedDns({ 'sneaky.test': ['127.0.0.1'] });
    const err = await failure(server.url('/redirect-to-private-name'), opts({ lookup: dns }));
    expect(err.code).toBe('url_resolves_to_private_address');
    expect(dns.asked).toEqual(['sneaky.test']);
    expect(trap4.connections).toBe(before);
  });

  test('a redirect to file:// is refused', async () => {
    expect((await failure(server.url('/redirect-to-file'), opts())).code).toBe('url_scheme_not_allowed');
  });

  test('exactly maxRedirects redirects are followed', async () => {
    const got = await fetchImageSafely(server.url('/chain/0/3'), opts({ maxRedirects: 3 }));
    expect(got.bytes.equals(png)).toBe(true);
    expect(got.finalUrl).toBe(server.url('/chain/3/3'));
  });

  test('one redirect more than maxRedirects is too_many_redirects', async () => {
    const err = await failure(server.url('/chain/0/4'), opts({ maxRedirects: 3 }));
    expect(err.code).toBe('too_many_redirects');
    expect(err.status).toBe(400);
  });

  test('maxRedirects defaults to 3', async () => {
    await expect(fetchImageSafely(server.url('/chain/0/3'), opts())).resolves.toBeDefined();
    expect((await failure(server.url('/chain/0/4'), opts())).code).toBe('too_many_redirects');
  });

  test('cookies set on one hop are not sent on the next, nor any credentials', async () => {
    const got = await fetchImageSafely(server.url('/set-cookie'), opts());
    const headers = JSON.parse(got.bytes.toString()) as Record<string, string>;
    expect(headers.cookie).toBeUndefined();
    expect(headers.authorization).toBeUndefined();
    expect(headers['accept-encoding']).toBe('identity');
  });

  test('a body declared larger than maxBytes is image_too_large (413)', async () => {
    const err = await failure(server.url('/big-declared'), opts({ maxBytes: 4096 }));
    expect(err.code).toBe('image_too_large');
    expect(err.status).toBe(413);
    expect(err.message).toMatch(/4\.9 KB.*4\.0 KB/);
  });

  test('a body without content-length is cut off once it passes maxBytes', async () => {
    const err = await failure(server.url('/big-chunked'), opts({ maxBytes: 100 * 1024 }));
    expect(err.code).toBe('image_too_large');
    // The server was stopped long before its 32 MB, not read to the end and then judged.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.written.get('/big-chunked')).toBeLessThan(16 * 1024 * 1024);
  });

  test('a server that never answers is url_fetch_timeout within the limit', async () => {
    const started = Date.now();
    const err = await failure(server.url('/hang'), opts({ timeoutMs: 300 }));
    expect(err.code).toBe('url_fetch_timeout');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2000);
  });

  test('a DNS lookup that never answers counts against the same time limit', async () => {
    const neverAnswers: ResolveHost = () => new Promise(() => {});
    const err = await failure('http://slow-dns.test/img.png', opts({ timeoutMs: 200, lookup: neverAnswers }));
    expect(err.code).toBe('url_fetch_timeout');
  });

  test('a body that stalls halfway is url_fetch_timeout too', async () => {
    const err = await failure(server.url('/stall-body'), opts({ timeoutMs: 300 }));
    expect(err.code).toBe('url_fetch_timeout');
  });

  test('an HTTP error status is url_fetch_failed and names the status', async () => {
    const err = await failure(server.url('/missing'), opts());
    expect(err.code).toBe('url_fetch_failed');
    expect(err.message).toMatch(/404/);
  });

  test('a compressed body is refused rather than decompressed', async () => {
    expect((await failure(server.url('/gzip'), opts())).code).toBe('url_fetch_failed');
  });

  test('a refused connection is url_fetch_failed', async () => {
    const closed = await startTrap(PUBLIC_TEST_IP);
    const port = closed!.port;
    await closed!.close();
    const err = await failure(`http://${PUBLIC_TEST_IP}:${port}/img.png`, opts());
    expect(err.code).toBe('url_fetch_failed');
    expect(err.message).toMatch(/refused/);
  });

  test('a host name that does not resolve is url_fetch_failed', async () => {
    const err = await failure('http://nowhere.test/img.png', opts({ lookup: fixedDns({}) }));
    expect(err.code).toBe('url_fetch_failed');
    expect(err.message).toMatch(/does not resolve/);
  });
});
