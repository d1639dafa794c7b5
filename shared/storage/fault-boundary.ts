// The browser API's error boundary for storage: a call that meets a DynamoDB/S3 outage answers
// 503 storage_unavailable (with retry-after) and the outage is logged once per incident; any
// other failure passes through untouched (a bug stays a 500 and is logged by the router's owner).
import { ApiError } from '../errors';
import type { ThrottledErrorLog } from '../observability/throttled-error-log';
import { storageUnavailable } from '../sessions/errors';
import { isStorageUnavailable } from './faults';

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
