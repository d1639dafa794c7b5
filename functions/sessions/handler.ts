// Lambda entry of the sessions API (POST /sessions, GET/DELETE /sessions/{id}, link). The
// ElevenLabs API key comes from Secrets Manager (ELEVENLABS_SECRET_ARN), never from plain env,
// and is re-read every few minutes so a rotated key needs no redeploy. Environment ->
// configuration here, the wiring in compose.ts.
import { loadBrowserApiConfig } from '../../shared/browser-api/config';
import { composeBrowserApi, createBrowserApiClients } from '../host/browser-api';
import { browserFunctionHandler } from '../host/browser-function';
import { refreshingOnSecrets } from '../host/refreshing-handler';
import { composeSessions } from './compose';

export const handler = browserFunctionHandler({
  service: 'sessions',
  compose: async (log, _env, host) => ({
    http: refreshingOnSecrets({
      arnVariables: ['ELEVENLABS_SECRET_ARN'],
      refreshMs: host.secretRefreshMs,
      log,
      secretName: 'ElevenLabs secret',
      build: async (env) => {
        const config = loadBrowserApiConfig(env);
        if (!config.elevenLabs)
          log.warn('ElevenLabs is not configured: POST /sessions returns no signed URL or token');
        const api = composeBrowserApi(config, await createBrowserApiClients(config), { log });
        return composeSessions(api).handler((err) => log.error('request failed', { error: err }));
      },
    }).handle,
  }),
});
