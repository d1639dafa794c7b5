// Composition root of the uploads function: the composed browser API in (functions/host/
// browser-api.ts, from the typed configuration), its routes and its S3 notification handler out
// (objects no pending upload waits for are removed on arrival, shared/uploads/late-uploads.ts).
// Used by the Lambda entry (handler.ts), the dev server and tests.
import type { BrowserApiDeps } from '../../shared/browser-api/deps';
import { createUploadsRoutes } from '../../shared/browser-api/uploads-routes';
import { Router } from '../../shared/http/router';
import { type ObjectCreatedRecord, removeLateUploads } from '../../shared/uploads/late-uploads';

export interface UploadsFunction {
  router: Router;
  /** S3 ObjectCreated records under uploads/; rejects when some could not be checked or removed. */
  objectEvents(records: readonly ObjectCreatedRecord[]): Promise<void>;
}

export function composeUploads(api: BrowserApiDeps, router: Router = new Router()): UploadsFunction {
  return {
    router: createUploadsRoutes(router, api),
    objectEvents: async (records) => {
      const outcome = await removeLateUploads(api, records);
      // Lambda retries a failed asynchronous invocation twice; checks and deletes are idempotent.
      if (outcome.failed.length > 0)
        throw new Error(`${outcome.failed.length} raw upload(s) could not be checked or removed`);
    },
  };
}
