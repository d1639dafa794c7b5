// Starts helper processes (fake upstreams, our server) and waits for the line that says where
// they listen, so the client, our server and the upstream each have their own event loop.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Spawned<T> {
  info: T;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Runs a script (`.ts` through tsx, a built `.mjs` with plain node) and resolves with the first
 * stdout JSON line holding `key`.
 */
export function spawnTs<T>(
  script: string,
  env: Record<string, string>,
  key: string,
  nodeArgs: string[] = [],
): Promise<Spawned<T>> {
  return new Promise((resolve, reject) => {
    const args = [...nodeArgs, ...(script.endsWith('.mjs') ? [script] : ['--import', 'tsx', script])];
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const rl = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`${script} did not start in time`)), 20_000);
    rl.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (key in parsed) {
          clearTimeout(timer);
          resolve({
            info: parsed as T,
            child,
            stop: () =>
              new Promise<void>((done) => {
                if (child.exitCode !== null) return done();
                child.once('exit', () => done());
                child.kill('SIGTERM');
              }),
          });
        }
      } catch {
        // not a JSON line
      }
    });
    child.once('exit', (code) => reject(new Error(`${script} exited early with ${code}`)));
  });
}

/** Bundles a TypeScript entry with esbuild the way production code is built (minified ESM). */
export async function bundleScript(entry: string, outfile: string): Promise<string> {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    // Dependencies stay in node_modules: this bundles the harness, not a deployable artifact.
    packages: 'external',
    logLevel: 'warning',
  });
  return outfile;
}
