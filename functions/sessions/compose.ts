// Composition root of the sessions function: the composed browser API in (functions/host/
// browser-api.ts, from the typed configuration), its routes out. The Lambda entry (handler.ts)
// calls it for each version of the ElevenLabs secret; the dev server and tests mount it on a
// router beside the uploads function's.
import type { BrowserApiDeps } from '../../shared/browser-api/deps';
import { createSessionsRoutes, type SessionsRoutesOptions } from '../../shared/browser-api/sessions-routes';
import { Router } from '../../shared/http/router';

export function composeSessions(
  api: BrowserApiDeps,
  router: Router = new Router(),
  generations: SessionsRoutesOptions = {},
): Router {
  return createSessionsRoutes(router, api, generations);
}
