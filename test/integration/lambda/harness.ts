// The deployed shape in a test: the functions bundled as `make build` bundles them (into a temp
// folder, so a fresh clone needs no build step), each run by AWS's runtime interface client
// behind the local function URL front, configured from the real stack.
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FunctionName } from '../../../infra/environment';
import type { ExecutionEnvironment } from '../../../infra/local/lambda/execution-environment';
import {
  type LambdaApp,
  type LambdaAppOptions,
  startLambdaApp,
} from '../../../infra/local/lambda/lambda-app';
import { type FunctionDefinition, loadStackFunctions } from '../../../infra/local/lambda/stack-functions';
import { bundleFunction } from '../../../scripts/build';

export interface Bundles {
  codeRoot: string;
  remove(): void;
}

/** Bundles the named functions exactly as `make build` does, into a temp folder. */
export async function buildBundles(names: readonly FunctionName[]): Promise<Bundles> {
  const codeRoot = mkdtempSync(join(tmpdir(), 'lambda-bundles-'));
  await Promise.all(names.map((name) => bundleFunction(name, join(codeRoot, name))));
  // sharp stays outside the bundle (a native module): the deployed artifact carries it in
  // node_modules beside index.mjs, .build/ finds the repository's; here a link stands in.
  symlinkSync(join(process.cwd(), 'node_modules'), join(codeRoot, 'node_modules'), 'dir');
  return { codeRoot, remove: () => rmSync(codeRoot, { recursive: true, force: true }) };
}

let stackFunctions: Promise<Record<FunctionName, FunctionDefinition>> | undefined;

/** The stack's functions (built once per test file: importing aws-cdk-lib costs about 1.5 s). */
export function stackFunctionsOnce(): Promise<Record<FunctionName, FunctionDefinition>> {
  stackFunctions ??= loadStackFunctions(process.cwd());
  return stackFunctions;
}

export interface RunningLambdaApp {
  app: LambdaApp;
  /** Every line each function process printed. */
  logs: Record<FunctionName, string[]>;
  /** The execution environment that served each request id. */
  servedBy: Map<string, ExecutionEnvironment>;
  /** The last invocation's environment, per function. */
  lastEnv(fn: FunctionName): ExecutionEnvironment | undefined;
  /** The JSON lines a function logged (its own structured logs and metrics). */
  jsonLogs(fn: FunctionName): Record<string, unknown>[];
  /** Number of execution environments of `fn` whose init finished (cold starts). */
  inits(fn: FunctionName): number;
}

export async function startRuntimeApp(
  codeRoot: string,
  opts: Omit<LambdaAppOptions, 'projectRoot' | 'codeRoot'>,
): Promise<RunningLambdaApp> {
  const logs: Record<FunctionName, string[]> = { chat: [], sessions: [], uploads: [], generate: [] };
  const servedBy = new Map<string, ExecutionEnvironment>();
  const last = new Map<FunctionName, ExecutionEnvironment>();
  const app = await startLambdaApp({
    projectRoot: process.cwd(),
    codeRoot,
    functions: await stackFunctionsOnce(),
    ...opts,
    onFunctionLog: (fn, line) => logs[fn].push(line),
    onInvoke: (fn, env, id) => {
      servedBy.set(id, env);
      last.set(fn, env);
      opts.onInvoke?.(fn, env, id);
    },
  });
  return {
    app,
    logs,
    servedBy,
    lastEnv: (fn) => last.get(fn),
    jsonLogs: (fn) =>
      logs[fn].flatMap((l) => {
        if (!l.startsWith('{')) return [];
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    inits: (fn) => app.events.filter((e) => e.fn === fn && e.type === 'init-done').length,
  };
}
