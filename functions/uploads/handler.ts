// Lambda entry of the uploads API (POST /sessions/{id}/images, .../{imageId}/complete): issues
// presigned upload forms, fetches image URLs, and normalizes images with sharp.
import { Router } from '../../shared/http/router';
import { createBrowserApiClients, createBrowserApiDeps } from '../../shared/sessions/browser-api';
import { loadBrowserApiConfig } from '../../shared/sessions/config';
import { createUploadsRoutes } from '../../shared/uploads/api';
import { browserFunctionHandler } from '../host/browser-function';

export const handler = browserFunctionHandler({
  service: 'uploads',
  build: async (log) => {
    const config = loadBrowserApiConfig(process.env);
    const deps = createBrowserApiDeps(config, createBrowserApiClients(config), { log });
    return createUploadsRoutes(new Router(), deps).handler((err) =>
      log.error('request failed', { error: err }),
    );
  },
});
