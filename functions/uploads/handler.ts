// Lambda entry of the uploads API (POST /sessions/{id}/images, .../{imageId}/complete): issues
// presigned upload forms, fetches image URLs, and normalizes images with sharp. Also the target
// of the bucket's ObjectCreated notifications on uploads/: objects no pending upload waits for
// are removed on arrival (shared/uploads/late-uploads.ts). One composition root for both.
import { Router } from '../../shared/http/router';
import { createBrowserApiClients, createBrowserApiDeps } from '../../shared/sessions/browser-api';
import { loadBrowserApiConfig } from '../../shared/sessions/config';
import { createUploadsRoutes } from '../../shared/uploads/api';
import { removeLateUploads } from '../../shared/uploads/late-uploads';
import { browserFunctionHandler } from '../host/browser-function';

export const handler = browserFunctionHandler({
  service: 'uploads',
  build: async (log) => {
    const config = loadBrowserApiConfig(process.env);
    const deps = createBrowserApiDeps(config, createBrowserApiClients(config), { log });
    return {
      http: createUploadsRoutes(new Router(), deps).handler((err) =>
        log.error('request failed', { error: err }),
      ),
      objectEvents: async (event) => {
        const outcome = await removeLateUploads(deps, event.Records);
        // Lambda retries a failed asynchronous invocation twice; checks and deletes are idempotent.
        if (outcome.failed.length > 0)
          throw new Error(`${outcome.failed.length} raw upload(s) could not be checked or removed`);
      },
    };
  },
});
