// What the local Lambda host runs, read from the real CDK stack: each function's handler string,
// environment, timeout, memory and function URL (invoke mode, CORS). The stack is built in-process
// with bundling switched off (no esbuild, no synth, no cdk-nag): deterministic, about 2 s.
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { FunctionName } from '../../environment';
import type { VisionBackendStack } from '../../stack';

export type InvokeMode = 'BUFFERED' | 'RESPONSE_STREAM';

export interface UrlCors {
  allowOrigins: string[];
  allowMethods: string[];
  allowHeaders: string[];
  maxAgeSeconds: number;
}

export interface FunctionDefinition {
  name: FunctionName;
  handler: string;
  runtime: string;
  timeoutSeconds: number;
  memoryMb: number;
  invokeMode: InvokeMode;
  cors?: UrlCors;
  /** Reserved concurrency, when the stage sets one (the local pool never runs more environments). */
  reservedConcurrency?: number;
  /** Literal values as in the template; references to stack resources stay as `ResourceRef`s. */
  environment: Record<string, string | ResourceRef>;
}

/** The stack resources a function's environment may name; the host maps each to a local stand-in. */
export type ResourceRef =
  | { ref: 'sessionsTable' | 'controlTable' | 'bucket' | 'llmSecret' | 'elevenLabsSecret' | 'imageSecret' }
  | { ref: 'functionUrl'; function: FunctionName }
  /** A function's name (GENERATE_FUNCTION_NAME): the host's Invoke API knows it by this. */
  | { ref: 'functionName'; function: FunctionName };

const FUNCTIONS: readonly FunctionName[] = ['chat', 'sessions', 'uploads', 'generate'];
/** The functions with a URL; generate is only invoked asynchronously (by chat and sessions). */
const URL_FUNCTIONS = ['chat', 'sessions', 'uploads'] as const;

/** Builds the stage's stack without bundling and reads its functions from it. */
export async function loadStackFunctions(
  projectRoot: string,
  stage = 'dev',
): Promise<Record<FunctionName, FunctionDefinition>> {
  // Loaded on demand: aws-cdk-lib takes about 1.5 s to import and only this needs it.
  const { buildApp } = await import('../../build-app');
  const { stack } = buildApp({
    projectRoot,
    context: { stage, 'aws:cdk:bundling-stacks': [] },
  });
  return readFunctions(stack);
}

function readFunctions(stack: VisionBackendStack): Record<FunctionName, FunctionDefinition> {
  const resolve = (token: unknown) => JSON.stringify(stack.resolve(token));
  const urls: Partial<Record<FunctionName, lambda.FunctionUrl>> = {
    chat: stack.chatUrl,
    sessions: stack.apiUrl,
    uploads: stack.uploadsUrl,
  };
  const refs = new Map<string, ResourceRef>([
    [resolve(stack.storage.sessionsTable.tableName), { ref: 'sessionsTable' }],
    [resolve(stack.storage.controlTable.tableName), { ref: 'controlTable' }],
    [resolve(stack.storage.bucket.bucketName), { ref: 'bucket' }],
    [resolve(stack.secrets.llm.secretArn), { ref: 'llmSecret' }],
    [resolve(stack.secrets.elevenLabs.secretArn), { ref: 'elevenLabsSecret' }],
    [resolve(stack.secrets.image.secretArn), { ref: 'imageSecret' }],
    [resolve(stack.generate.fn.functionName), { ref: 'functionName', function: 'generate' }],
    ...URL_FUNCTIONS.map((f): [string, ResourceRef] => [
      resolve(urls[f]!.url),
      { ref: 'functionUrl', function: f },
    ]),
  ]);
  const out = {} as Record<FunctionName, FunctionDefinition>;
  for (const name of FUNCTIONS) {
    const fn = stack[name].fn.node.defaultChild as lambda.CfnFunction;
    const url = urls[name]?.node.defaultChild as lambda.CfnUrl | undefined;
    const variables = (stack.resolve(fn.environment) as { variables?: Record<string, unknown> } | undefined)
      ?.variables;
    const environment: Record<string, string | ResourceRef> = {};
    for (const [key, value] of Object.entries(variables ?? {})) {
      if (typeof value === 'string') {
        environment[key] = value;
        continue;
      }
      const ref = refs.get(JSON.stringify(value));
      if (!ref)
        throw new Error(
          `${name}: environment variable ${key} refers to ${JSON.stringify(value)}, which the local Lambda host cannot provide`,
        );
      environment[key] = ref;
    }
    const cors = stack.resolve(url?.cors) as
      | { allowOrigins?: string[]; allowMethods?: string[]; allowHeaders?: string[]; maxAge?: number }
      | undefined;
    const reserved = stack.resolve(fn.reservedConcurrentExecutions) as number | undefined;
    out[name] = {
      name,
      handler: stack.resolve(fn.handler) as string,
      runtime: stack.resolve(fn.runtime) as string,
      timeoutSeconds: (stack.resolve(fn.timeout) as number | undefined) ?? 3,
      memoryMb: (stack.resolve(fn.memorySize) as number | undefined) ?? 128,
      invokeMode: (stack.resolve(url?.invokeMode) as InvokeMode | undefined) ?? 'BUFFERED',
      ...(cors
        ? {
            cors: {
              allowOrigins: cors.allowOrigins ?? [],
              allowMethods: cors.allowMethods ?? [],
              allowHeaders: cors.allowHeaders ?? [],
              maxAgeSeconds: cors.maxAge ?? 0,
            },
          }
        : {}),
      ...(reserved !== undefined ? { reservedConcurrency: reserved } : {}),
      environment,
    };
  }
  return out;
}
