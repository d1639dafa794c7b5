// The browser API's error boundary for storage: a call that meets a DynamoDB/S3 outage answers
// 503 storage_unavailable (with retry-after) and the outage is logged once per incident; any
// other failure passes through untouched (a bug stays a 500 and is logged by the router's owner).
import { ApiError } from '../errors';
import type { ThrottledErrorLog } from '../observability/throttled-error-log';
import { isStorageUnavailable } from './faults';

/** What a browser should wait before retrying a call that met a storage outage. */
export const STORAGE_RETRY_AFTER_SECONDS = 5;

/**
 * DynamoDB or S3 could not be reached (or throttled, or a table is missing): nothing was changed
 * that a retry could not finish. Logged once per incident where it is raised, not per request.
 */
export function storageUnavailable(cause: unknown): ApiError {
  return new ApiError(
    503,
    'service_unavailable',
    'Session storage is unavailable right now; retry shortly.',
    { code: 'storage_unavailable', retryAfterSeconds: STORAGE_RETRY_AFTER_SECONDS, cause, logged: true },
  );
}

export class StorageFaultBoundary {
  constructor(private readonly incidents: ThrottledErrorLog) {}

  /** Runs one browser call named `operation` (e.g. "POST /sessions") behind the boundary. */
  async run<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof ApiError || !isStorageUnavailable(err)) throw err;
      this.incidents.report(err, { operation });
      throw storageUnavailable(err);
    }
  }
}
