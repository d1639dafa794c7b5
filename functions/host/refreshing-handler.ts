// Keeps a function's service in step with its secrets without a redeploy: every `refreshMs` a
// request triggers, in the background, a re-read of the secrets' text; only when it changed is
// a new service built and swapped in. Requests never wait for the check, and a failed check or
// build keeps the service that works.

import type { Env } from '../../shared/env-vars';
import type { HttpHandler } from '../../shared/http/types';
import type { Logger } from '../../shared/observability/log';
import { overlaySecret, readSecrets } from './secrets';

export interface RefreshingOptions {
  /** Builds the service from the secrets' current text (called at start and on every change). */
  build(secretsText: string): Promise<HttpHandler>;
  /** Reads the secrets' current text (Secrets Manager in Lambda). */
  readSecrets(): Promise<string>;
  refreshMs: number;
  now?: () => number;
  onError(err: unknown): void;
  onRefreshed?(): void;
}

export interface RefreshingHandler {
  handle: HttpHandler;
  /** Resolves when the first service is built (cold start), and after a refresh settles. */
  settled(): Promise<void>;
}

export function refreshingHandler(opts: RefreshingOptions): RefreshingHandler {
  const now = opts.now ?? Date.now;
  const start = () => {
    const built = opts.readSecrets().then(async (text) => ({ text, handler: await opts.build(text) }));
    // The failure is reported to the request that awaits it; until then it is not "unhandled".
    built.catch(() => {});
    return built;
  };
  let current = start();
  let lastCheck = now();
  let checking: Promise<void> = current.then(
    () => undefined,
    () => undefined,
  );

  async function check(): Promise<void> {
    try {
      const live = await current;
      const text = await opts.readSecrets();
      if (text === live.text) return;
      const handler = await opts.build(text);
      current = Promise.resolve({ text, handler });
      opts.onRefreshed?.();
    } catch (err) {
      opts.onError(err);
    }
  }

  return {
    async handle(req, signal) {
      let live: Awaited<typeof current>;
      try {
        live = await current;
      } catch (err) {
        // A cold start that could not read its secret (a passing Secrets Manager error) must not
        // leave the container broken for good: the next request tries again.
        current = start();
        lastCheck = now();
        throw err;
      }
      const { handler } = live;
      if (now() - lastCheck >= opts.refreshMs) {
        lastCheck = now();
        checking = check();
      }
      return handler(req, signal);
    },
    settled: async () => {
      await checking;
    },
  };
}

/**
 * A refreshing handler over the secrets named by `arnVariables` (Secrets Manager): `build` gets
 * the environment with the secrets' values overlaid, at cold start and whenever they change.
 */
export function refreshingOnSecrets(opts: {
  arnVariables: string[];
  build(env: Env): Promise<HttpHandler>;
  refreshMs: number;
  log: Logger;
  secretName: string;
}): RefreshingHandler {
  return refreshingHandler({
    readSecrets: async () => JSON.stringify(await readSecrets(process.env, opts.arnVariables)),
    build: (text) => {
      const secrets = JSON.parse(text) as { arn: string; text: string }[];
      const env = secrets.reduce<Env>(
        (acc, s) => overlaySecret(acc, s.text, s.arn.split(':').pop() ?? 'secret'),
        process.env,
      );
      return opts.build(env);
    },
    refreshMs: opts.refreshMs,
    onError: (err) =>
      opts.log.error(`could not refresh the ${opts.secretName}; keeping the current keys`, { error: err }),
    onRefreshed: () => opts.log.info(`${opts.secretName} changed; new keys in use`),
  });
}
