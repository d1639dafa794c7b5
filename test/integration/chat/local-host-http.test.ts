// HTTP details of the local host (infra/local/node-host.ts) that only raw clients can see: a
// stream honours `Connection: close`, an oversized chunked body gets its 413 before the
// connection closes, a body that trickles in is cut with a 408, and a client that leaves
// mid-body is logged as an abort, not as an error.
import { type ClientRequest, request } from 'node:http';
import { connect } from 'node:net';
import { createChatApp } from '../../../shared/chat/app';
import { loadConfig } from '../../../shared/config';
import { createLogger } from '../../../shared/observability/log';
import { type FakeOpenAIServer, startOpenAIServer } from '../../fakes/openai-server';
import { type RunningChatServer, startChatServer } from '../../helpers/chat-server';
import { serveOnLoopback } from '../../helpers/serve';

/** Longer than any answer here may take; reaching it means the host kept the client waiting. */
const CLIENT_DEADLINE_MS = 3000;
const MAX_BODY_BYTES = 64 * 1024;
const BODY_READ_TIMEOUT_MS = 400;

let upstream: FakeOpenAIServer;
let server: RunningChatServer;

beforeAll(async () => {
  upstream = await startOpenAIServer();
  server = await startChatServer({
    OPENAI_API_KEY: 'sk',
    OPENAI_BASE_URL: `${upstream.url}/v1`,
    MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    BODY_READ_TIMEOUT_MS: String(BODY_READ_TIMEOUT_MS),
  });
});
afterAll(async () => {
  await server.close();
  await upstream.close();
});

const turn = JSON.stringify({
  model: 'gpt-4o',
  stream: true,
  messages: [{ role: 'user', content: 'hi' }],
});

test('a stream asked with Connection: close ends the connection after [DONE]', async () => {
  const { port } = new URL(server.url);
  const started = performance.now();
  const text = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      received += d;
    });
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
    socket.setTimeout(CLIENT_DEADLINE_MS, () => {
      socket.destroy();
      reject(new Error(`the socket was still open ${CLIENT_DEADLINE_MS} ms later: ${received.slice(-40)}`));
    });
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(turn)}\r\n\r\n${turn}`,
    );
  });
  expect(performance.now() - started).toBeLessThan(CLIENT_DEADLINE_MS);
  expect(text).toMatch(/^HTTP\/1\.1 200/);
  expect(text.toLowerCase()).toContain('connection: close');
  expect(text).toContain('data: [DONE]');
});

test('a keep-alive stream keeps its connection (the default is unchanged)', async () => {
  const res = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: turn,
  });
  expect(res.headers.get('connection')).toBe('keep-alive');
  expect(await res.text()).toContain('data: [DONE]');
});

interface Answer {
  status: number;
  body: string;
}

/**
 * Opens a chat request with `headers` and lets `send` write its body as it likes; resolves with
 * the answer, or rejects if the connection fails before one (a reset) or the deadline passes.
 */
function answerTo(
  headers: Record<string, string>,
  send: (req: ClientRequest, answered: () => boolean) => void,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
    });
    let answered = false;
    const deadline = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer within ${CLIENT_DEADLINE_MS} ms`));
    }, CLIENT_DEADLINE_MS);
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => {
        clearTimeout(deadline);
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', (err) => {
      if (answered) return;
      clearTimeout(deadline);
      reject(err);
    });
    send(req, () => answered);
  });
}

test('a chunked body over MAX_BODY_BYTES gets the 413 error object, not a reset', async () => {
  const chunk = Buffer.alloc(16 * 1024, 'a');
  const answer = await answerTo({ 'transfer-encoding': 'chunked' }, (req, answered) => {
    // Keep sending, as an upload does, until the server answers: 16 times the limit at most.
    let sent = 0;
    const pump = () => {
      while (!answered() && !req.destroyed && sent < MAX_BODY_BYTES * 16) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
  expect(answer.status).toBe(413);
  expect(JSON.parse(answer.body).error).toMatchObject({
    type: 'invalid_request_error',
    code: 'payload_too_large',
  });
});

test('a body trickling in slower than BODY_READ_TIMEOUT_MS is cut with a 408', async () => {
  const started = performance.now();
  const answer = await answerTo({ 'content-length': String(Buffer.byteLength(turn)) }, (req, answered) => {
    const timer = setInterval(() => {
      if (answered() || req.destroyed) clearInterval(timer);
      else req.write(' ');
    }, 100);
  });
  expect(performance.now() - started).toBeGreaterThanOrEqual(BODY_READ_TIMEOUT_MS - 10);
  expect(answer.status).toBe(408);
  expect(JSON.parse(answer.body).error).toMatchObject({
    type: 'invalid_request_error',
    code: 'request_body_timeout',
  });
});

test('a client leaving mid-body is logged at info as an abort, never as an error', async () => {
  const lines: { level: string; msg: string; phase?: string }[] = [];
  const log = createLogger('debug', {}, (line) => lines.push(JSON.parse(line)));
  const app = createChatApp({ config: loadConfig({ PORT: '0' }), log });
  let handled = 0;
  const served = await serveOnLoopback(
    (req, signal) => {
      handled += 1;
      return app.handler(req, signal);
    },
    { maxBodyBytes: MAX_BODY_BYTES, log },
  );
  try {
    await new Promise<void>((resolve) => {
      const req = request(`${served.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': '1000' },
      });
      req.on('error', () => {});
      req.write('{"model":"gpt-4o",');
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 100);
    });
    const deadline = performance.now() + CLIENT_DEADLINE_MS;
    while (lines.length === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(handled).toBe(0);
    expect(lines).toEqual([
      expect.objectContaining({ level: 'info', msg: 'client closed the request', phase: 'body' }),
    ]);
  } finally {
    await served.close();
  }
});
