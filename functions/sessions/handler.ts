// Lambda entry of the sessions API (POST /sessions, GET/DELETE /sessions/{id}, link, and image
// generations when IMAGE_GENERATION is on; the image keys come from IMAGE_SECRET_ARN). The
// ElevenLabs API key comes from Secrets Manager (ELEVENLABS_SECRET_ARN), never from plain env,
// and is re-read every few minutes so a rotated key needs no redeploy.
import { Router } from '../../shared/http/router';
import { createSessionsRoutes } from '../../shared/sessions/api';
import { createBrowserApiClients, createBrowserApiDeps } from '../../shared/sessions/browser-api';
import { loadBrowserApiConfig } from '../../shared/sessions/config';
import { enableBrowserGenerations } from '../generate/compose';
import { browserFunctionHandler } from '../host/browser-function';
import { refreshingOnSecrets, secretRefreshMs } from '../host/refreshing-handler';

export const handler = browserFunctionHandler({
  service: 'sessions',
  build: async (log) => ({
    http: refreshingOnSecrets({
      arnVariables: ['ELEVENLABS_SECRET_ARN', 'IMAGE_SECRET_ARN'],
      refreshMs: secretRefreshMs(process.env),
      log,
      secretName: 'ElevenLabs secret',
      build: async (env) => {
        const config = loadBrowserApiConfig(env);
        if (!config.elevenLabs)
          log.warn('ElevenLabs is not configured: POST /sessions returns no signed URL or token');
        const clients = createBrowserApiClients(config);
        const deps = createBrowserApiDeps(config, clients, { log });
        const router = new Router();
        const generations = await enableBrowserGenerations(router, env, deps, clients);
        return createSessionsRoutes(router, deps, generations).handler((err) =>
          log.error('request failed', { error: err }),
        );
      },
    }).handle,
  }),
});
