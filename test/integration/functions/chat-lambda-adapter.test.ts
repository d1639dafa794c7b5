// The chat Lambda entry's adapter, as a unit: what a RESPONSE_STREAM handler can observe of its
// client going away (the stream closing or erroring, a refused write) and of its own deadline. The
// real runtime client never reports a departed function URL client (RIC issue #145), so these
// signals are driven through a stand-in `awslambda` global and a real Writable; everything behind
// them is the real code. Whole turns through the runtime client are in test/integration/lambda/.
import { Writable } from 'node:stream';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { DEADLINE_MARGIN_MS } from '../../../functions/host/lambda-http';
import { type FakeOpenAIServer, openaiReply, startOpenAIServer } from '../../fakes/openai-server';
import { sseEvents } from '../../helpers/chat-server';

function installAwsLambdaGlobal(): void {
  (globalThis as Record<string, unknown>).awslambda = {
    streamifyResponse: (fn: unknown) => fn,
    HttpResponseStream: {
      from(stream: { meta?: unknown }, meta: unknown) {
        stream.meta = meta;
        return stream;
      },
    },
  };
}

function event(
  body: unknown,
  headers: Record<string, string>,
  path = '/v1/chat/completions',
): LambdaFunctionURLEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'x',
      domainName: 'x.lambda-url.us-east-1.on.aws',
      domainPrefix: 'x',
      http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'test' },
      requestId: 'r',
      routeKey: '$default',
      stage: '$default',
      time: '',
      timeEpoch: 0,
    },
    body: Buffer.from(JSON.stringify(body)).toString('base64'),
    isBase64Encoded: true,
  };
}

type Handler = (e: LambdaFunctionURLEvent, s: unknown, c: unknown) => Promise<void>;
const saved = { ...process.env };
let stdout: string[] = [];

beforeAll(() => {
  installAwsLambdaGlobal();
  // Logs and EMF metrics go to stdout on Lambda; capture them to check what they say.
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
});
beforeEach(() => {
  stdout = [];
});
afterAll(() => {
  process.env = saved;
});

async function loadHandler(env: Record<string, string>): Promise<Handler> {
  process.env = { ...saved, ...env };
  let mod: { handler: Handler } | undefined;
  jest.isolateModules(() => {
    mod = require('../../../functions/chat/handler');
  });
  return mod!.handler;
}

/**
 * A response stream with real Writable behaviour (`destroyed`, `writableEnded`, 'close' and
 * 'error' events) that a test can make behave like a client that hung up: the signals a
 * streaming function can see. (On AWS none of them fires for a function URL client that hangs
 * up; see the README's barge-in section. The deadline test covers what does fire there.)
 */
class StandInResponseStream extends Writable {
  meta?: { statusCode: number; headers: Record<string, string> };
  readonly chunks: string[] = [];
  private throwOnWrite = false;

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.chunks.push(chunk.toString());
    cb();
  }

  override write(chunk: string): boolean {
    if (this.throwOnWrite) throw new Error('write EPIPE');
    return super.write(chunk);
  }

  /** How the client's departure shows: the stream closes, errors, or refuses the next write. */
  hangUp(how: 'close' | 'error' | 'throw'): void {
    if (how === 'close') this.destroy();
    else if (how === 'error') this.destroy(new Error('socket hang up'));
    else this.throwOnWrite = true;
  }

  get text(): string {
    return this.chunks.join('');
  }
}

describe('barge-in through the Lambda adapter', () => {
  const LONG_ANSWER = Array.from({ length: 200 }, (_, i) => ` word${i}`);
  let slow: FakeOpenAIServer;
  let handler: Handler;

  beforeAll(async () => {
    slow = await startOpenAIServer();
    slow.setDefault(openaiReply({ text: LONG_ANSWER }, { delayMs: 50 }));
    handler = await loadHandler({
      OPENAI_API_KEY: 'sk',
      OPENAI_BASE_URL: `${slow.url}/v1`,
      CHAT_API_KEY: 'k1',
    });
  });
  afterAll(() => slow.close());
  beforeEach(() => {
    slow.requests.length = 0;
  });

  const turnEvent = (stream: boolean) =>
    event(
      { model: 'gpt-4o', stream, messages: [{ role: 'user', content: 'What do you see?' }] },
      { authorization: 'Bearer k1' },
    );
  const loggedTurns = () =>
    stdout
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'turn');
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  // A function with minutes left: only the client's departure can end these turns early.
  const roomy = { getRemainingTimeInMillis: () => 300_000 };

  test.each([
    ['streamed', true],
    ['not streamed', false],
  ])('%s: 10 clients hanging up at 1 s leave 0 upstream streams 1 s later', async (_l, stream) => {
    // A refused write can only show in a stream: a buffered answer writes once, at its end.
    const ways = stream ? (['close', 'error', 'throw'] as const) : (['close', 'error'] as const);
    const outs = Array.from({ length: 10 }, () => new StandInResponseStream());
    const invocations = outs.map((out) => handler(turnEvent(stream), out, roomy));
    await sleep(1000);
    outs.forEach((out, i) => {
      out.hangUp(ways[i % ways.length]!);
    });
    await sleep(1000);

    expect(slow.requests).toHaveLength(10);
    expect(slow.running()).toBe(0);
    expect(slow.requests.map((r) => r.outcome)).toEqual(Array(10).fill('aborted'));
    await Promise.all(invocations);
    const turns = loggedTurns();
    expect(turns.map((t) => [t.level, t.status, t.error])).toEqual(
      Array(10).fill(['info', 499, 'client_disconnected']),
    );
    for (const t of turns)
      expect((t.usage as { completion_tokens: number }).completion_tokens).toBeGreaterThan(0);
  });

  test('the invocation deadline stops the upstream and ends the stream with an SSE error event', async () => {
    const out = new StandInResponseStream();
    const deadline = Date.now() + 1000 + DEADLINE_MARGIN_MS;
    await handler(turnEvent(true), out, { getRemainingTimeInMillis: () => deadline - Date.now() });
    await sleep(200);

    expect(slow.running()).toBe(0);
    expect(slow.requests[0]?.outcome).toBe('aborted');
    expect(out.writableEnded).toBe(true);
    const events = sseEvents(out.text);
    expect(events.at(-1)).toMatchObject({ error: { type: 'timeout_error', code: 'invocation_deadline' } });
    expect(events).not.toContain('[DONE]');
    expect(loggedTurns()[0]).toMatchObject({ status: 504, error: 'invocation_deadline' });
  });

  test('the deadline before the first token answers a 504 error object', async () => {
    slow.enqueue({ kind: 'hang' });
    const out = new StandInResponseStream();
    const deadline = Date.now() + 500 + DEADLINE_MARGIN_MS;
    await handler(turnEvent(false), out, { getRemainingTimeInMillis: () => deadline - Date.now() });
    await sleep(200);

    expect(slow.running()).toBe(0);
    expect(out.meta?.statusCode).toBe(504);
    expect(JSON.parse(out.text).error).toMatchObject({ type: 'timeout_error', code: 'invocation_deadline' });
  });
});
