// Lambda entry of the sessions API (POST /sessions, GET/DELETE /sessions/{id}, link, usage, and
// image generations when IMAGE_GENERATION is on; the image keys come from IMAGE_SECRET_ARN), and of
// the reference app (GET / and its files, from app/ beside the bundle) on the same origin. The
// ElevenLabs API key comes from Secrets Manager (ELEVENLABS_SECRET_ARN), never from plain env,
// and is re-read every few minutes so a rotated key needs no redeploy. Environment ->
// configuration here, the wiring in compose.ts.
import { join } from 'node:path';
import { loadBrowserApiConfig } from '../../shared/browser-api/config';
import { Router } from '../../shared/http/router';
import { mountAppFrom } from '../../web/app/assets';
import { enableBrowserGenerations } from '../generate/compose';
import { composeBrowserApi, createBrowserApiClients } from '../host/browser-api';
import { browserFunctionHandler } from '../host/browser-function';
import { refreshingOnSecrets } from '../host/refreshing-handler';
import { composeSessions } from './compose';

export const handler = browserFunctionHandler({
  service: 'sessions',
  compose: async (log, _env, host) => ({
    http: refreshingOnSecrets({
      arnVariables: ['ELEVENLABS_SECRET_ARN', 'IMAGE_SECRET_ARN'],
      refreshMs: host.secretRefreshMs,
      log,
      secretName: 'ElevenLabs secret',
      build: async (env) => {
        const config = loadBrowserApiConfig(env);
        if (!config.elevenLabs)
          log.warn('ElevenLabs is not configured: POST /sessions returns no signed URL or token');
        const clients = await createBrowserApiClients(config);
        const api = composeBrowserApi(config, clients, { log });
        const router = new Router();
        const generations = await enableBrowserGenerations(router, config.imageGeneration, api, clients);
        composeSessions(api, router, generations);
        // The build puts the app in app/ beside the bundle (Lambda's task root); tests load no app.
        const appDir = join(env.LAMBDA_TASK_ROOT ?? process.cwd(), 'app');
        if (!mountAppFrom(appDir, router, config)) log.info('no reference app to serve', { appDir });
        return router.handler((err) => log.error('request failed', { error: err }));
      },
    }).handle,
  }),
});
