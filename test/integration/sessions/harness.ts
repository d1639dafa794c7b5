// The browser API (sessions + uploads on one router, as the dev server mounts them) over the
// real AWS SDK clients and the embedded DynamoDB/S3 emulators, with a clock tests can move.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import {
  type BrowserApiClients,
  type BrowserApiOptions,
  composeBrowserApi,
} from '../../../functions/host/browser-api';
import { composeSessions } from '../../../functions/sessions/compose';
import { composeUploads } from '../../../functions/uploads/compose';
import { deliverUploadNotifications } from '../../../infra/local/dev-app';
import { type Emulators, startEmulators } from '../../../infra/local/emulators';
import type { BrowserApiConfig } from '../../../shared/browser-api/config';
import type { BrowserApiDeps } from '../../../shared/browser-api/deps';
import { Router } from '../../../shared/http/router';
import type { HttpHandler } from '../../../shared/http/types';
import { loadImageGenConfig } from '../../../shared/imagegen/config';
import { DEFAULT_IMAGE_LIMITS } from '../../../shared/images/normalize';

export const SESSIONS_TABLE = 'test-sessions';
export const CONTROL_TABLE = 'test-control';
export const BUCKET = 'test-images';
export const APP_ORIGIN = 'https://app.example.com';

export interface TestStorage {
  emu: Emulators;
  clients: BrowserApiClients;
  close(): Promise<void>;
}

/** The environment a deployed function gets for this storage: table and bucket names, the
 * emulators' endpoints and keys. */
export function storageEnv(storage: TestStorage): Record<string, string> {
  const { emu } = storage;
  return {
    SESSIONS_TABLE,
    CONTROL_TABLE,
    IMAGES_BUCKET: BUCKET,
    AWS_REGION: emu.region,
    AWS_ACCESS_KEY_ID: emu.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: emu.credentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: emu.dynamoEndpoint,
    AWS_ENDPOINT_URL_S3: emu.s3Endpoint,
  };
}

export async function startTestStorage(): Promise<TestStorage> {
  const emu = await startEmulators({ tables: [SESSIONS_TABLE, CONTROL_TABLE], buckets: [BUCKET] });
  const dynamo = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: emu.dynamoEndpoint, region: emu.region, credentials: emu.credentials }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  const s3 = new S3Client({
    endpoint: emu.s3Endpoint,
    region: emu.region,
    credentials: emu.credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    emu,
    clients: { dynamo, s3 },
    async close() {
      dynamo.destroy();
      s3.destroy();
      await emu.close();
    },
  };
}

export function testConfig(overrides: Partial<BrowserApiConfig> = {}): BrowserApiConfig {
  return {
    sessionsTable: SESSIONS_TABLE,
    controlTable: CONTROL_TABLE,
    imagesBucket: BUCKET,
    endpoints: {},
    sessionTtlSeconds: 3600,
    uploadsUrl: 'https://uploads.example.com',
    auth: { mode: 'anonymous', allowedOrigins: [APP_ORIGIN] },
    // High enough that only the rate-limit tests ever meet them.
    rateLimits: { sessionsPerMinute: 1000, uploadsPerMinute: 1000, requestsPerMinute: 1000 },
    maxUploadBytes: 2 * 1024 * 1024,
    maxInlineBytes: 512 * 1024,
    maxImagesPerSession: 100,
    imageLimits: { ...DEFAULT_IMAGE_LIMITS, maxInputBytes: 2 * 1024 * 1024 },
    logLevel: 'error',
    imageGeneration: loadImageGenConfig({}),
    sessionBudget: {},
    ...overrides,
  };
}

export interface Reply<T> {
  status: number;
  headers: Record<string, string>;
  text: string;
  json: T;
}

export type ErrorBody = {
  error: { message: string; type: string; param: string | null; code: string | null };
};

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  ip?: string;
  /** Omit the default Origin header. */
  noOrigin?: boolean;
}

export interface TestBrowserApi {
  deps: BrowserApiDeps;
  handler: HttpHandler;
  clock: { now: number };
  /**
   * Stops this API receiving the bucket's uploads/ notifications (it does by default, as `make dev`
   * does). Every API on the storage receives them, judged by its own clock: an API whose clock is
   * moved past other sessions' expiry would remove their pending uploads, so stop it first.
   */
  stopNotifications(): void;
  call<T = Record<string, unknown>>(method: string, path: string, opts?: CallOptions): Promise<Reply<T>>;
  createSession(opts?: CallOptions): Promise<CreatedSession>;
}

export interface CreatedSession {
  sessionId: string;
  sessionSecret: string;
  expiresAt: string;
  uploadUrl: string;
  elevenLabs: null | {
    agentId: string;
    signedUrl?: string;
    conversationToken?: string;
    customLlmExtraBody: { session_id: string };
  };
}

export function createTestBrowserApi(
  storage: TestStorage,
  config: BrowserApiConfig = testConfig(),
  options: BrowserApiOptions = {},
): TestBrowserApi {
  const clock = { now: Date.now() };
  const deps = composeBrowserApi(config, storage.clients, { now: () => clock.now, ...options });
  const router = new Router();
  composeSessions(deps, router);
  const uploads = composeUploads(deps, router);
  const handler = router.handler();
  const stopNotifications = deliverUploadNotifications(storage.emu, uploads);

  async function call<T>(method: string, path: string, opts: CallOptions = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = {};
    if (!opts.noOrigin) headers.origin = APP_ORIGIN;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = v;
    const body =
      opts.body === undefined
        ? Buffer.alloc(0)
        : Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
    const queryAt = path.indexOf('?');
    const res = await handler(
      {
        method,
        path: queryAt === -1 ? path : path.slice(0, queryAt),
        headers,
        query: {},
        body,
        sourceIp: opts.ip ?? '198.51.100.7',
      },
      new AbortController().signal,
    );
    const text = res.body ?? '';
    return {
      status: res.status,
      headers: res.headers,
      text,
      json: (text ? JSON.parse(text) : undefined) as T,
    };
  }

  return {
    deps,
    handler,
    clock,
    stopNotifications,
    call,
    async createSession(opts = {}) {
      const res = await call<CreatedSession>('POST', '/sessions', { body: {}, ...opts });
      if (res.status !== 201) throw new Error(`POST /sessions answered ${res.status}: ${res.text}`);
      return res.json;
    },
  };
}

export function secretHeader(session: { sessionSecret: string }): Record<string, string> {
  return { 'x-session-secret': session.sessionSecret };
}

/** Every item of a session's partition, by sort key. */
export async function partitionItems(
  storage: TestStorage,
  sessionId: string,
): Promise<Record<string, unknown>[]> {
  const out = await storage.clients.dynamo.send(
    new QueryCommand({
      TableName: SESSIONS_TABLE,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `SESSION#${sessionId}` },
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []) as Record<string, unknown>[];
}

export async function imageItems(
  storage: TestStorage,
  sessionId: string,
): Promise<Record<string, unknown>[]> {
  return (await partitionItems(storage, sessionId)).filter((i) => String(i.sk).startsWith('IMAGE#'));
}

export async function objectKeys(storage: TestStorage, prefix: string): Promise<string[]> {
  const out = await storage.clients.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key ?? '');
}

/** The session's objects under both prefixes. */
export async function sessionObjects(storage: TestStorage, sessionId: string): Promise<string[]> {
  return [
    ...(await objectKeys(storage, `uploads/${sessionId}/`)),
    ...(await objectKeys(storage, `images/${sessionId}/`)),
  ];
}

/** Uploads bytes the way a browser does: a multipart/form-data POST of the form fields, then the file. */
export async function postUploadForm(
  upload: { url: string; fields: Record<string, string> },
  bytes: Uint8Array,
  contentType: string,
  fileName = 'photo.jpg',
): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  form.append('file', new Blob([Buffer.from(bytes)], { type: contentType }), fileName);
  return fetch(upload.url, { method: 'POST', body: form });
}
