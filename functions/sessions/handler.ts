// Lambda entry of the sessions API (POST /sessions, GET/DELETE /sessions/{id}, link, usage), and
// of the reference app (GET / and its files, from app/ beside the bundle) on the same origin. The
// ElevenLabs API key comes from Secrets Manager (ELEVENLABS_SECRET_ARN), never from plain env,
// and is re-read every few minutes so a rotated key needs no redeploy.
import { join } from 'node:path';
import { Router } from '../../shared/http/router';
import { createSessionsRoutes } from '../../shared/sessions/api';
import { createBrowserApiClients, createBrowserApiDeps } from '../../shared/sessions/browser-api';
import { loadBrowserApiConfig } from '../../shared/sessions/config';
import { mountAppFrom } from '../../web/app/assets';
import { browserFunctionHandler } from '../host/browser-function';
import { refreshingOnSecrets, secretRefreshMs } from '../host/refreshing-handler';

export const handler = browserFunctionHandler({
  service: 'sessions',
  build: async (log) => ({
    http: refreshingOnSecrets({
      arnVariables: ['ELEVENLABS_SECRET_ARN'],
      refreshMs: secretRefreshMs(process.env),
      log,
      secretName: 'ElevenLabs secret',
      build: async (env) => {
        const config = loadBrowserApiConfig(env);
        if (!config.elevenLabs)
          log.warn('ElevenLabs is not configured: POST /sessions returns no signed URL or token');
        const deps = createBrowserApiDeps(config, createBrowserApiClients(config), { log });
        const router = createSessionsRoutes(new Router(), deps);
        // The build puts the app in app/ beside the bundle (Lambda's task root); tests load no app.
        const appDir = join(env.LAMBDA_TASK_ROOT ?? process.cwd(), 'app');
        if (!mountAppFrom(appDir, router, config)) log.info('no reference app to serve', { appDir });
        return router.handler((err) => log.error('request failed', { error: err }));
      },
    }).handle,
  }),
});
