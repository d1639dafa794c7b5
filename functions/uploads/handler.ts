// Lambda entry of the uploads API (POST /sessions/{id}/images, .../{imageId}/complete): issues
// presigned upload forms, fetches image URLs, and normalizes images with sharp. Also the target
// of the bucket's ObjectCreated notifications on uploads/. Environment -> configuration here,
// the wiring in compose.ts.
import { loadBrowserApiConfig } from '../../shared/browser-api/config';
import { composeBrowserApi, createBrowserApiClients } from '../host/browser-api';
import { browserFunctionHandler } from '../host/browser-function';
import { composeUploads } from './compose';

export const handler = browserFunctionHandler({
  service: 'uploads',
  compose: async (log, env) => {
    const config = loadBrowserApiConfig(env);
    const uploads = composeUploads(composeBrowserApi(config, await createBrowserApiClients(config), { log }));
    return {
      http: uploads.router.handler((err) => log.error('request failed', { error: err })),
      objectEvents: (event) => uploads.objectEvents(event.Records),
    };
  },
});
