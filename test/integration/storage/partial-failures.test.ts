// Storage failing in the middle of a browser call, at the exact point where a half-done write
// could be left behind: the call answers 503 storage_unavailable, and what it had written is
// either finished by a retry or removed, never orphaned. Real SDK, real emulators.
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTables } from '../../../infra/local/emulators';
import { parseChatRequest } from '../../../shared/chat/parse';
import { createImageContext } from '../../../shared/context/image-context';
import { DEFAULT_IMAGE_LIMITS } from '../../../shared/images/limits';
import { createLogger } from '../../../shared/observability/log';
import type { ImageResult } from '../../../shared/uploads/image-result';
import {
  CONTROL_TABLE,
  type CreatedSession,
  createTestBrowserApi,
  type ErrorBody,
  partitionItems,
  postUploadForm,
  SESSIONS_TABLE,
  secretHeader,
  sessionObjects,
  startTestStorage,
  type TestBrowserApi,
  type TestStorage,
} from '../sessions/harness';
import { solidJpeg } from '../uploads/test-images';

let storage: TestStorage;
let api: TestBrowserApi;

beforeAll(async () => {
  storage = await startTestStorage();
  api = createTestBrowserApi(storage);
});
afterEach(async () => {
  jest.restoreAllMocks();
  await storage.emu.restart();
});
afterAll(() => storage.close());

async function uploaded(session: CreatedSession, bytes: Buffer): Promise<string> {
  const form = await api.call<{ imageId: string; upload: { url: string; fields: Record<string, string> } }>(
    'POST',
    `/sessions/${session.sessionId}/images`,
    { body: { contentType: 'image/jpeg', contentLength: bytes.length }, headers: secretHeader(session) },
  );
  expect(form.status).toBe(201);
  expect((await postUploadForm(form.json.upload, bytes, 'image/jpeg')).status).toBeLessThan(300);
  return form.json.imageId;
}

const complete = (session: CreatedSession, imageId: string) =>
  api.call<ImageResult & ErrorBody>('POST', `/sessions/${session.sessionId}/images/${imageId}/complete`, {
    headers: secretHeader(session),
  });

/** DynamoDB goes away right after the normalized image reached S3, before the commit. */
function dynamoDiesAfterTheNextWrite(): void {
  const objects = api.deps.objects;
  const put = objects.put.bind(objects);
  jest.spyOn(objects, 'put').mockImplementationOnce(async (key, bytes, type) => {
    await put(key, bytes, type);
    await storage.emu.stop('dynamodb');
  });
}

test('DynamoDB lost between the S3 write and the commit: 503, and the retried complete finishes with one object', async () => {
  const session = await api.createSession();
  const imageId = await uploaded(session, await solidJpeg(300, 200, [10, 90, 10]));
  dynamoDiesAfterTheNextWrite();
  const failed = await complete(session, imageId);
  expect(failed.status).toBe(503);
  expect(failed.json.error.code).toBe('storage_unavailable');

  await storage.emu.restart('dynamodb');
  const done = await complete(session, imageId);
  expect(done.status).toBe(200);
  expect(done.json.status).toBe('ready');
  expect(await sessionObjects(storage, session.sessionId)).toEqual([
    `images/${session.sessionId}/${imageId}.jpg`,
  ]);
});

test('DynamoDB lost between the S3 write and the commit, then the session deleted: no object is left', async () => {
  const session = await api.createSession();
  const imageId = await uploaded(session, await solidJpeg(300, 200, [90, 10, 10]));
  dynamoDiesAfterTheNextWrite();
  expect((await complete(session, imageId)).status).toBe(503);
  await storage.emu.restart('dynamodb');

  const deleted = await api.call('DELETE', `/sessions/${session.sessionId}`, {
    headers: secretHeader(session),
  });
  expect(deleted.status).toBe(204);
  expect(await sessionObjects(storage, session.sessionId)).toEqual([]);
  expect(await partitionItems(storage, session.sessionId)).toEqual([]);
});

test('S3 down for an inline image: 503, and neither the image nor its content claim stays in the table', async () => {
  const session = await api.createSession();
  await storage.emu.stop('s3');
  const data = `data:image/jpeg;base64,${(await solidJpeg(64, 64, [5, 5, 250])).toString('base64')}`;
  const res = await api.call<ErrorBody>('POST', `/sessions/${session.sessionId}/images`, {
    body: { data },
    headers: secretHeader(session),
  });
  expect(res.status).toBe(503);
  expect(res.headers['retry-after']).toBe('5');
  expect(res.json.error.code).toBe('storage_unavailable');
  expect((await partitionItems(storage, session.sessionId)).map((i) => String(i.sk))).toEqual(['META']);
});

test('a missing table is storage_unavailable (ResourceNotFoundException), and creating it again recovers', async () => {
  const ddb = new DynamoDBClient({
    endpoint: storage.emu.dynamoEndpoint,
    region: storage.emu.region,
    credentials: storage.emu.credentials,
  });
  try {
    await ddb.send(new DeleteTableCommand({ TableName: SESSIONS_TABLE }));
    const res = await api.call<ErrorBody>('POST', '/sessions', { body: {} });
    expect(res.status).toBe(503);
    expect(res.json.error.code).toBe('storage_unavailable');
    await createTables(storage.emu, [SESSIONS_TABLE, CONTROL_TABLE]);
    expect((await api.call('POST', '/sessions', { body: {} })).status).toBe(201);
  } finally {
    ddb.destroy();
  }
});

/** The write that makes a new image ready fails once, after its normalized object reached S3. */
function readyWriteFailsOnce(): void {
  const outage = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1'), {
    name: 'TimeoutError',
    code: 'ECONNREFUSED',
    $metadata: {},
  });
  jest.spyOn(api.deps.store, 'markImageReady').mockRejectedValueOnce(outage);
}

const messageImageTurn = (sessionId: string, data: string) => ({
  model: 'gpt-4o',
  stream: true,
  max_tokens: -1,
  messages: [
    {
      role: 'user' as const,
      content: [
        { type: 'text' as const, text: 'What is this?' },
        { type: 'image_url' as const, image_url: { url: data } },
      ],
    },
  ],
  elevenlabs_extra_body: { session_id: sessionId },
});

test('an inline image whose ready write fails: 503, and neither its object, its item nor its claim stays', async () => {
  const session = await api.createSession();
  readyWriteFailsOnce();
  const data = `data:image/jpeg;base64,${(await solidJpeg(64, 64, [250, 5, 5])).toString('base64')}`;
  const res = await api.call<ErrorBody>('POST', `/sessions/${session.sessionId}/images`, {
    body: { data },
    headers: secretHeader(session),
  });
  expect(res.status).toBe(503);
  expect(await sessionObjects(storage, session.sessionId)).toEqual([]);
  expect((await partitionItems(storage, session.sessionId)).map((i) => String(i.sk))).toEqual(['META']);
});

test('a chat message image whose ready write fails: the turn goes on, and no object, item or claim is left', async () => {
  const session = await api.createSession();
  const enricher = createImageContext({
    store: { store: api.deps.store, objects: api.deps.objects },
    log: createLogger('error', {}, () => {}),
    limits: DEFAULT_IMAGE_LIMITS,
    fetchImage: async () => {
      throw new Error('no URL images in this test');
    },
    deliveryFor: () => 'inline',
  });
  readyWriteFailsOnce();
  const data = `data:image/jpeg;base64,${(await solidJpeg(64, 64, [5, 250, 5])).toString('base64')}`;
  const turn = parseChatRequest(Buffer.from(JSON.stringify(messageImageTurn(session.sessionId, data))));
  const enriched = await enricher.enrich(
    turn,
    {
      method: 'POST',
      path: '/v1/chat/completions',
      headers: {},
      query: {},
      body: Buffer.alloc(0),
      sourceIp: '127.0.0.1',
    },
    new AbortController().signal,
  );
  // The image still reaches the model from the message itself; it is just not kept.
  expect(enriched.imageCount).toBe(1);
  expect(await sessionObjects(storage, session.sessionId)).toEqual([]);
  expect((await partitionItems(storage, session.sessionId)).map((i) => String(i.sk))).toEqual(['META']);
});
