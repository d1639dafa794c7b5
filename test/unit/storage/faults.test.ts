// Which failures are a storage outage (503 storage_unavailable, logged once per incident) and
// which are bugs (500, logged every time), decided on the SDK's own error classes.
import {
  ConditionalCheckFailedException,
  ProvisionedThroughputExceededException,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { NoSuchBucket, S3ServiceException } from '@aws-sdk/client-s3';
import { createChatApp } from '../../../shared/chat/app';
import { loadConfig } from '../../../shared/config';
import type { HttpRequest } from '../../../shared/http/types';
import { createLogger } from '../../../shared/observability/log';
import { ThrottledErrorLog } from '../../../shared/observability/throttled-error-log';
import { StorageFaultBoundary } from '../../../shared/storage/fault-boundary';
import { isStorageUnavailable } from '../../../shared/storage/faults';

const meta = (httpStatusCode?: number) => ({ $metadata: { httpStatusCode, attempts: 2 } });
const socketError = (code: string, withMetadata: boolean) =>
  Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code, ...(withMetadata ? meta() : {}) });

test.each([
  ['a refused connection from the SDK', socketError('ECONNREFUSED', true)],
  ['a reset connection from the SDK', socketError('ECONNRESET', true)],
  [
    "the SDK's wrapper around a socket error of another realm",
    Object.assign(new Error('AWS SDK error wrapper for Error: connect ECONNREFUSED 127.0.0.1:9'), meta()),
  ],
  [
    "the SDK's request timeout",
    Object.assign(new Error('request timed out'), { name: 'TimeoutError', code: 'ETIMEDOUT', ...meta() }),
  ],
  [
    'a missing table',
    new ResourceNotFoundException({ message: 'Requested resource not found', ...meta(400) }),
  ],
  ['a missing bucket', new NoSuchBucket({ message: 'The specified bucket does not exist', ...meta(404) })],
  ['throttling', new ProvisionedThroughputExceededException({ message: 'slow down', ...meta(400) })],
  [
    'a 503 from S3',
    new S3ServiceException({
      name: 'SlowDown',
      $fault: 'server',
      message: 'Please reduce your request rate',
      ...meta(503),
    }),
  ],
  [
    'an unnamed 500',
    new S3ServiceException({ name: 'Unknown', $fault: 'server', message: '', ...meta(500) }),
  ],
])('%s is a storage outage', (_name, err) => {
  expect(isStorageUnavailable(err)).toBe(true);
});

test.each([
  ['a failed condition (our logic)', new ConditionalCheckFailedException({ message: 'no', ...meta(400) })],
  [
    'AccessDenied (a wrong grant is a bug to fix, not to retry)',
    new S3ServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      message: 'Access Denied',
      ...meta(403),
    }),
  ],
  ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'x')")],
  // Not from an SDK client (no $metadata): e.g. another HTTP dependency that is down.
  ['a refused connection elsewhere', socketError('ECONNREFUSED', false)],
  ['a string', 'ECONNREFUSED'],
  ['null', null],
])('%s is not', (_name, err) => {
  expect(isStorageUnavailable(err)).toBe(false);
});

test('the boundary turns outages into one 503 type and logs them once per interval; bugs pass through', async () => {
  const logged: string[] = [];
  let now = 0;
  const boundary = new StorageFaultBoundary(
    new ThrottledErrorLog(
      (_l, msg) => logged.push(msg),
      'storage unavailable',
      60_000,
      () => now,
    ),
  );
  const outage = () => Promise.reject(socketError('ECONNREFUSED', true));
  for (let i = 0; i < 3; i++) {
    await expect(boundary.run('GET /sessions/{id}', outage)).rejects.toMatchObject({
      status: 503,
      code: 'storage_unavailable',
      retryAfterSeconds: 5,
      logged: true,
    });
  }
  expect(logged).toEqual(['storage unavailable']);
  now += 60_000;
  await expect(boundary.run('POST /sessions', outage)).rejects.toMatchObject({ status: 503 });
  expect(logged).toHaveLength(2);

  const bug = new TypeError('bug');
  await expect(boundary.run('POST /sessions', () => Promise.reject(bug))).rejects.toBe(bug);
  expect(logged).toHaveLength(2);
});

test('a bug in a route mounted beside chat (the dev server) is a 500 internal_error and is logged', async () => {
  const lines: { level: string; msg: string }[] = [];
  const app = createChatApp({
    config: loadConfig({}),
    log: createLogger('info', {}, (l) => lines.push(JSON.parse(l))),
  });
  app.router.on('GET', '/sessions/:id', async () => {
    throw new TypeError('bug');
  });
  const req: HttpRequest = {
    method: 'GET',
    path: '/sessions/x',
    headers: {},
    query: {},
    body: Buffer.alloc(0),
    sourceIp: '',
  };
  const res = await app.handler(req, new AbortController().signal);
  expect(res.status).toBe(500);
  expect(JSON.parse(res.body!).error.code).toBe('internal_error');
  expect(lines).toEqual([expect.objectContaining({ level: 'error', msg: 'request failed' })]);
});
