// `make dev-lambda`: the whole product on the same port and API as `make dev`, but every request
// goes through a local function URL into AWS's runtime interface client running the bundle
// `make build` wrote, configured from the stack (infra/local/lambda/). Keys come from the shell
// and are served by the Secrets Manager stand-in, as `make secrets` would store them.
import { join } from 'node:path';
import { choiceVar, intVar, readEnv } from '../../shared/env-vars';
import { createLogger } from '../../shared/observability/log';
import { CHAT_API_KEY, ELEVENLABS_KEYS, IMAGE_KEYS, llmKeyNames, pickFromEnv } from '../operations/secrets';
import { loadStageConfig } from '../stage-config';
import { defaultDataDir } from './dev-app';
import { FUNCTION_NAMES, startLambdaApp } from './lambda/lambda-app';
import { loadStackFunctions } from './lambda/stack-functions';

/** Template variables the shell must not replace: the runtime's flags and the stage's name. */
const FIXED = new Set(['NODE_OPTIONS', 'STAGE']);

async function main(): Promise<void> {
  const env = process.env;
  const host = readEnv(
    { PORT: intVar(8787, 0, 65_535), LOG_LEVEL: choiceVar(['debug', 'info', 'warn', 'error'], 'info') },
    env,
  );
  const port = host.PORT;
  const log = createLogger(host.LOG_LEVEL, { service: 'dev-lambda' });
  const projectRoot = process.cwd();
  const functions = await loadStackFunctions(projectRoot);
  const stage = loadStageConfig('dev', join(projectRoot, 'infra', 'stages'));

  // A variable set in the shell replaces the template's value of the same name (MODEL_ROUTES,
  // LOG_LEVEL...); provider base URLs are added for the chat function, as `make dev` reads them.
  const overrides = Object.fromEntries(
    FUNCTION_NAMES.map((name) => {
      const o: Record<string, string> = {};
      for (const [k, v] of Object.entries(functions[name].environment)) {
        const shell = env[k];
        if (typeof v === 'string' && !FIXED.has(k) && shell !== undefined) o[k] = shell;
      }
      return [name, o];
    }),
  ) as Record<(typeof FUNCTION_NAMES)[number], Record<string, string>>;
  for (const [k, v] of Object.entries(env)) if (k.endsWith('_BASE_URL') && v) overrides.chat[k] = v;
  // Like `make dev`: without CHAT_API_KEY the chat endpoint is open, and without a provider key
  // the echo provider answers. Both are said at start; a deployed stack allows neither.
  overrides.chat.REQUIRE_CHAT_API_KEY = env.CHAT_API_KEY ? 'true' : 'false';
  overrides.chat.ALLOW_ECHO = 'true';

  const llmSecret = pickFromEnv([CHAT_API_KEY, ...llmKeyNames(stage)], env);
  const app = await startLambdaApp({
    projectRoot,
    codeRoot: join(projectRoot, '.build'),
    functions,
    port,
    dataDir: defaultDataDir(),
    llmSecret,
    elevenLabsSecret: pickFromEnv(ELEVENLABS_KEYS, env),
    imageSecret: pickFromEnv(IMAGE_KEYS, env),
    overrides,
    serveApp: true,
    log,
    onFunctionLog: (fn, line) => process.stdout.write(`[${fn}] ${line}\n`),
  });
  process.stdout.write(
    `${JSON.stringify({ msg: 'listening', url: app.url, app: `${app.url}/`, serverUrlForElevenLabs: `${app.url}/v1`, data: defaultDataDir(), host: 'lambda runtime interface client' })}\n`,
  );
  if (!env.CHAT_API_KEY)
    log.warn('CHAT_API_KEY is not set: the chat endpoint is OPEN (fine locally, never deployed)');
  if (Object.keys(llmSecret).every((k) => k === CHAT_API_KEY))
    log.warn('no provider key configured: every model is answered by the echo provider');
  const stop = () => void app.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  process.stderr.write(`dev-lambda failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
