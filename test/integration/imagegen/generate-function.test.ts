// The generate function's Lambda entry over the emulators (its environment as the stack sets
// it), and the chat/sessions side that starts it: the asynchronous Invoke request the official
// Lambda client sends, on the wire.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lambdaJobStarter } from '../../../functions/generate/invoke';
import { GenerationStore } from '../../../shared/imagegen/store';
import { newGenerationId } from '../../../shared/sessions/ids';
import { SessionStore } from '../../../shared/sessions/store';
import { SESSIONS_TABLE, startTestStorage, storageEnv, type TestStorage } from '../sessions/harness';

let storage: TestStorage;
const saved = { ...process.env };
beforeAll(async () => {
  storage = await startTestStorage();
  Object.assign(process.env, storageEnv(storage), { IMAGE_GENERATION: 'true', LOG_LEVEL: 'error' });
});
afterAll(async () => {
  process.env = saved;
  await storage.close();
});

test('a queued job is claimed once: the first delivery runs it (and records why it failed), a repeat is skipped', async () => {
  const { handler } = await import('../../../functions/generate/handler');
  const sessions = new SessionStore({ client: storage.clients.dynamo, tableName: SESSIONS_TABLE });
  const { session } = await sessions.createSession({ ttlSeconds: 3600 });
  const generations = new GenerationStore({
    client: storage.clients.dynamo,
    tableName: SESSIONS_TABLE,
    deadlines: { queuedMs: 60_000, runningMs: 60_000 },
  });
  const generationId = newGenerationId();
  const now = Date.now();
  await generations.create({
    generationId,
    sessionId: session.sessionId,
    status: 'queued',
    origin: 'voice',
    requester: 'ip:1.1.1.1',
    prompt: 'a boat',
    options: { quality: 'medium', aspect: 'square' },
    estimateUsd: 0.01,
    approvedUsd: 0.02,
    chosen: { entryId: 'x:y:medium', provider: 'x', model: 'y', priceUsd: 0.01 },
    alternatives: [],
    attempts: [],
    createdAt: now,
    confirmBy: now + 60_000,
    queuedAt: now,
    ttl: session.ttl,
  });
  const event = { kind: 'generation_job', sessionId: session.sessionId, generationId };
  // No provider key here: the echo provider draws it (free, within the approved amount).
  expect(await handler(event)).toEqual({ outcome: 'ready' });
  expect(await generations.get(session.sessionId, generationId)).toMatchObject({
    status: 'ready',
    provider: 'echo',
  });
  expect(await handler(event)).toEqual({ outcome: 'skipped' });
  expect(await handler({ Records: [] })).toEqual({ outcome: 'ignored' });
});

test('starting a job is one asynchronous Invoke of the generate function (InvocationType Event)', async () => {
  const seen: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      seen.push({ path: req.url ?? '', headers: req.headers, body });
      res.writeHead(202);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const start = lambdaJobStarter({
      functionName: 'stack-GenerateFunction-abc',
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    });
    await start({ sessionId: 's_x', generationId: 'gen_y' });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.path).toBe('/2015-03-31/functions/stack-GenerateFunction-abc/invocations');
    expect(seen[0]!.headers['x-amz-invocation-type']).toBe('Event');
    expect(JSON.parse(seen[0]!.body)).toEqual({
      kind: 'generation_job',
      sessionId: 's_x',
      generationId: 'gen_y',
    });
  } finally {
    server.close();
  }
});

test('a Lambda that refuses the event makes starting fail (the generation is then failed by the service)', async () => {
  const server = createServer((_req, res) => {
    res.writeHead(429, {
      'content-type': 'application/json',
      'x-amzn-errortype': 'TooManyRequestsException',
    });
    res.end(JSON.stringify({ message: 'Rate Exceeded.' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const start = lambdaJobStarter({
      functionName: 'f',
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    });
    await expect(start({ sessionId: 's_x', generationId: 'gen_y' })).rejects.toThrow();
  } finally {
    server.close();
  }
});
