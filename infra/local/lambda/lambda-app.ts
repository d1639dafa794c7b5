// The whole product behind local function URLs, every request through AWS's runtime interface
// client (`make dev-lambda`, and the tests and benchmark of the deployed shape): the stack's three
// functions as built by `make build`, with the synthesized handler, environment, timeout, memory
// and invoke mode, the same embedded DynamoDB and S3 as `make dev`, and a Secrets Manager stand-in.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { Router } from '../../../shared/http/router';
import type { HttpHandler } from '../../../shared/http/types';
import { type Logger, silentLogger } from '../../../shared/observability/log';
import { BUCKET_PREFIXES } from '../../../shared/storage/schema';
import { APP_FILES, ELEVENLABS_CONNECT, mountApp } from '../../../web/app/assets';
import { buildAppAssets } from '../../../web/app/build';
import type { FunctionName } from '../../environment';
import { LOCAL_NAMES } from '../dev-app';
import { type Emulators, startEmulators } from '../emulators';
import type { ExecutionEnvironment, HostEvent } from './execution-environment';
import { FunctionUrl, type LambdaLimits } from './function-url';
import { type SecretsStandIn, startSecretsStandIn } from './secrets-stand-in';
import { type FunctionDefinition, loadStackFunctions, type ResourceRef } from './stack-functions';

export const FUNCTION_NAMES: readonly FunctionName[] = ['chat', 'sessions', 'uploads', 'generate'];

/** The local ARNs of the stage's secrets (the stand-in serves them). */
export const LOCAL_SECRET_ARNS = {
  llm: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:local-llm-AbCdEf',
  elevenLabs: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:local-elevenlabs-AbCdEf',
  image: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:local-image-AbCdEf',
} as const;

/** Lambda's Invoke API path: `POST /2015-03-31/functions/{name}/invocations`. */
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

export interface LambdaAppOptions {
  projectRoot: string;
  /** Holds `<function>/index.mjs` (`make build` writes .build/). */
  codeRoot: string;
  /** The functions to run; read from the stack (stage `dev`) when omitted. */
  functions?: Record<FunctionName, FunctionDefinition>;
  port?: number;
  /** Emulator data kept here across restarts; omit for throwaway data. */
  dataDir?: string;
  /** The LLM secret's JSON values (CHAT_API_KEY, provider keys and base URLs), as `make secrets` stores them. */
  llmSecret?: Record<string, string>;
  /** The ElevenLabs secret's values (ELEVENLABS_API_KEY). */
  elevenLabsSecret?: Record<string, string>;
  /** The image secret's values (image provider keys). */
  imageSecret?: Record<string, string>;
  /** Local changes to the template's environment, per function (each one is said in the README). */
  overrides?: Partial<Record<FunctionName, Record<string, string>>>;
  /** Local changes to what the template says (a short timeout to test one, say). */
  adjust?: Partial<Record<FunctionName, Partial<Pick<FunctionDefinition, 'timeoutSeconds' | 'memoryMb'>>>>;
  maxConcurrency?: number;
  limits?: Partial<LambdaLimits>;
  /** Serves the reference app (web/app) at `/` beside the function URLs, as the sessions function does deployed. */
  serveApp?: boolean;
  log?: Logger;
  /** Every line a function process prints (its logs), with the function's name. */
  onFunctionLog?(fn: FunctionName, line: string): void;
  onInvoke?(fn: FunctionName, env: ExecutionEnvironment, requestId: string): void;
}

export interface LambdaApp {
  url: string;
  urls: Record<FunctionName, FunctionUrl>;
  /** What the Runtime API servers saw: spawns, inits, /next calls, invocations, ends. */
  events: HostEvent[];
  emulators: Emulators;
  secrets: SecretsStandIn;
  close(): Promise<void>;
}

/** Which function URL a path belongs to, as the stack splits the API over its three URLs. */
export function functionForPath(path: string): FunctionName {
  if (/^\/sessions\/[^/]+\/images(\/[^/]+(\/complete)?)?\/?$/.test(path)) return 'uploads';
  if (/^\/sessions(\/|$)/.test(path)) return 'sessions';
  return 'chat';
}

export async function startLambdaApp(opts: LambdaAppOptions): Promise<LambdaApp> {
  const log = opts.log ?? silentLogger;
  const functions = opts.functions ?? (await loadStackFunctions(opts.projectRoot));
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const origins = [url, `http://localhost:${port}`];

  const emulators = await startEmulators({
    ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
    tables: [LOCAL_NAMES.sessionsTable, LOCAL_NAMES.controlTable],
    buckets: [LOCAL_NAMES.bucket],
    corsOrigins: origins,
  });
  const secrets = await startSecretsStandIn({
    [LOCAL_SECRET_ARNS.llm]: JSON.stringify(opts.llmSecret ?? {}),
    [LOCAL_SECRET_ARNS.elevenLabs]: JSON.stringify(opts.elevenLabsSecret ?? {}),
    [LOCAL_SECRET_ARNS.image]: JSON.stringify(opts.imageSecret ?? {}),
  });

  const local = (ref: ResourceRef): string => {
    switch (ref.ref) {
      case 'sessionsTable':
        return LOCAL_NAMES.sessionsTable;
      case 'controlTable':
        return LOCAL_NAMES.controlTable;
      case 'bucket':
        return LOCAL_NAMES.bucket;
      case 'llmSecret':
        return LOCAL_SECRET_ARNS.llm;
      case 'elevenLabsSecret':
        return LOCAL_SECRET_ARNS.elevenLabs;
      case 'imageSecret':
        return LOCAL_SECRET_ARNS.image;
      case 'functionName':
        return `local-${ref.function}`;
      case 'functionUrl':
        // One local front serves all three URLs; function URLs end with "/".
        return `${url}/`;
      default: {
        const never: never = ref;
        throw new Error(`unknown resource reference ${JSON.stringify(never)}`);
      }
    }
  };

  const events: HostEvent[] = [];
  const urls = {} as Record<FunctionName, FunctionUrl>;
  for (const name of FUNCTION_NAMES) {
    const def = functions[name];
    const environment: Record<string, string> = {};
    for (const [k, v] of Object.entries(def.environment))
      environment[k] = typeof v === 'string' ? v : local(v);
    Object.assign(
      environment,
      {
        // The SDK clients reach the emulators and the secrets stand-in; the credentials are dummies
        // the emulators accept (Lambda hands a function its role's temporary credentials the same way).
        AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamoEndpoint,
        AWS_ENDPOINT_URL_S3: emulators.s3Endpoint,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
        // Lambda's Invoke API (asynchronous invocations of the generate function) on the front.
        AWS_ENDPOINT_URL_LAMBDA: url,
        AWS_ACCESS_KEY_ID: emulators.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: emulators.credentials.secretAccessKey,
        AWS_SESSION_TOKEN: 'local',
      },
      // The browser functions admit the local front's origins (the stage file lists the deployed ones).
      name === 'chat' ? {} : { ALLOWED_ORIGINS: origins.join(',') },
      opts.overrides?.[name] ?? {},
    );
    urls[name] = new FunctionUrl({
      name,
      handler: def.handler,
      codeDir: resolve(opts.codeRoot, name),
      projectRoot: opts.projectRoot,
      timeoutSeconds: opts.adjust?.[name]?.timeoutSeconds ?? def.timeoutSeconds,
      memoryMb: opts.adjust?.[name]?.memoryMb ?? def.memoryMb,
      invokeMode: def.invokeMode,
      ...(def.cors ? { cors: { ...def.cors, allowOrigins: origins } } : {}),
      environment,
      region: emulators.region,
      maxConcurrency: opts.maxConcurrency ?? def.reservedConcurrency ?? 10,
      ...(opts.limits ? { limits: opts.limits } : {}),
      onLog: (line) => opts.onFunctionLog?.(name, line),
      onEvent: (e) => events.push(e),
      ...(opts.onInvoke ? { onInvoke: (env, id) => opts.onInvoke?.(name, env, id) } : {}),
    });
  }

  // The stack's bucket notification: objects created under uploads/ invoke the uploads function
  // asynchronously with S3's event JSON (a failure is logged by the host, as Lambda records it).
  const stopNotifications = emulators.notifications.subscribe({
    prefix: BUCKET_PREFIXES.uploads,
    deliver: (event) => urls.uploads.invokeEvent(event),
  });

  /**
   * Lambda's Invoke API for InvocationType Event, as chat and sessions call it to start image
   * jobs: 202 once the event is queued, the function run in the background like Lambda does
   * (no retries here; a failed run is logged by the host).
   */
  async function invokeAsync(name: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const fn = FUNCTION_NAMES.find((f) => `local-${f}` === name);
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (!fn) return answer(404, { Type: 'User', message: `Function not found: ${name}` });
    if (req.headers['x-amz-invocation-type'] !== 'Event')
      return answer(400, { Type: 'User', message: 'the local host supports InvocationType Event only' });
    let event: unknown;
    try {
      event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return answer(400, { Type: 'User', message: 'Could not parse request body into json' });
    }
    void urls[fn].invokeEvent(event);
    res.writeHead(202);
    res.end();
  }

  let appPages: HttpHandler | undefined;
  if (opts.serveApp) {
    appPages = mountApp(new Router(), await buildAppAssets(opts.projectRoot), {
      connect: [new URL(emulators.s3Endpoint).origin, ...ELEVENLABS_CONNECT],
      images: [new URL(emulators.s3Endpoint).origin],
    }).handler();
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', url).pathname;
    const invoke = req.method === 'POST' ? INVOKE_PATH.exec(path) : null;
    if (invoke) {
      void invokeAsync(decodeURIComponent(invoke[1]!), req, res);
      return;
    }
    if (appPages && req.method === 'GET' && path in APP_FILES) {
      req.resume();
      void appPages(
        { method: 'GET', path, headers: {}, query: {}, body: Buffer.alloc(0), sourceIp: '' },
        new AbortController().signal,
      ).then((r) => {
        res.writeHead(r.status, r.headers);
        res.end(r.body ?? '');
      });
      return;
    }
    urls[functionForPath(path)].handle(req, res).catch((err: unknown) => {
      log.error('local function URL failed', { error: err });
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.keepAliveTimeout = 65_000;

  return {
    url,
    urls,
    events,
    emulators,
    secrets,
    async close() {
      stopNotifications();
      // Events already sent finish before their environments go.
      await emulators.notifications.settled();
      for (const u of Object.values(urls)) u.close();
      await closeServer(server);
      await secrets.close();
      await emulators.close();
    },
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
