// Which failures of an AWS SDK call mean "storage cannot be reached right now" (the browser API
// answers 503 storage_unavailable and the caller retries) rather than a bug (500, logged).
// Pure: decided from the error's shape alone.
import { isNetworkErrorCode } from '../http/network-errors';

/** Errors the SDK raised for a call: they carry `$metadata` (attempts, status), ours do not. */
interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** DynamoDB and S3 asking callers to slow down. */
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'SlowDown',
]);

/**
 * The service, or the resource the stack should have created, is not there: a missing table
 * (dynalite and DynamoDB say ResourceNotFoundException) or bucket, a 5xx by name, a timeout.
 */
const UNAVAILABLE = new Set([
  'ResourceNotFoundException',
  'NoSuchBucket',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'InternalError',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

/**
 * The SDK replaces a throwable that is not an `Error` of its own realm with a new Error whose
 * message is "AWS SDK error wrapper for <the throwable as text>": the socket's code survives only
 * in that text. (Node's socket errors reach it that way whenever the SDK runs in another VM
 * context than Node's internals, as under Jest.)
 */
function wrappedCode(err: object): string {
  const message = (err as { message?: unknown }).message;
  if (typeof message !== 'string' || !message.startsWith('AWS SDK error wrapper for ')) return '';
  return /\b(E[A-Z_]+|UND_ERR_[A-Z_]+)\b/.exec(message)?.[1] ?? '';
}

/**
 * True for an AWS SDK error that says storage is unreachable, overloaded or missing. Anything
 * else (a validation error of ours, AccessDenied from a wrong grant, a programming error) is not:
 * retrying would not help, and it must surface as a bug.
 */
export function isStorageUnavailable(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const e = err as SdkErrorShape;
  if (e.$metadata === undefined || e.$metadata === null || typeof e.$metadata !== 'object') return false;
  const name = typeof e.name === 'string' ? e.name : '';
  const code = typeof e.code === 'string' ? e.code : wrappedCode(err);
  if (THROTTLING.has(name) || UNAVAILABLE.has(name)) return true;
  if (isNetworkErrorCode(code) || isNetworkErrorCode(name)) return true;
  const status = e.$metadata.httpStatusCode;
  if (typeof status === 'number' && (status >= 500 || status === 429)) return true;
  return e.$fault === 'server';
}
