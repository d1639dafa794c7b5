// Bundles each function the way the deployed stack does (ESM, minified, source maps, node22),
// into .build/<function>/index.mjs. Used by `make build` and by the benchmark for bundle size
// and cold import time. sharp stays external: it is a native module, installed per platform.
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { ESM_REQUIRE_BANNER } from '../infra/constructs/bundling';
import { buildAppAssets, writeAppAssets } from '../web/app/build';

export const FUNCTIONS = ['chat', 'sessions', 'uploads', 'generate'] as const;

/** The function whose bundle carries the reference app (web/app) in app/: same origin as the sessions API. */
export const APP_SERVED_BY = 'sessions';

/**
 * zod re-exports every one of its 60-odd message locales as a namespace (`z.locales`), which no
 * bundler can tree-shake, and the chat function imports zod at cold start. Only English is ever
 * used (zod's default, which its schemas import directly), so `z.locales` keeps `en` and the
 * rest stays out of the bundles.
 */
export const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${sep}node_modules${sep}zod${sep}`)
        ? { path: join(dirname(args.importer), '..', 'locales'), namespace: 'zod-english-only' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, (args) => ({
      contents: "export { default as en } from './en.js';",
      resolveDir: args.path,
    }));
  },
};

/**
 * The bundle's entry re-exports the function's module and, when that module exports `ready` (a
 * promise that never rejects), awaits it at top level: the runtime's init then covers the work
 * every first request would otherwise wait for (the secret read, the SDK loads), and Lambda runs
 * init at full CPU, before any request is waiting. The await lives here, not in the module,
 * because the tests load the modules as CommonJS, where top-level await does not exist.
 */
function initEntry(entry: string): Plugin {
  return {
    name: 'init-entry',
    setup(b) {
      b.onResolve({ filter: /^init-entry$/ }, () => ({ path: 'init-entry', namespace: 'init-entry' }));
      b.onLoad({ filter: /.*/, namespace: 'init-entry' }, async () => {
        const source = readFileSync(entry, 'utf8');
        const spec = JSON.stringify(`./${relative(process.cwd(), entry).split(sep).join('/')}`);
        return {
          contents: /^export const ready\b/m.test(source)
            ? `import { ready } from ${spec};\nexport * from ${spec};\nawait ready;\n`
            : `export * from ${spec};\n`,
          resolveDir: process.cwd(),
          loader: 'ts',
        };
      });
    },
  };
}

export async function bundleFunction(
  name: string,
  outdir = `.build/${name}`,
  entry = `functions/${name}/handler.ts`,
): Promise<string> {
  mkdirSync(outdir, { recursive: true });
  const outfile = `${outdir}/index.mjs`;
  await build({
    entryPoints: { index: 'init-entry' },
    outdir,
    outExtension: { '.js': '.mjs' },
    // Code splitting puts what is imported lazily (provider SDKs, the AWS SDK clients) in chunks
    // of their own, so a cold start parses only what the configuration uses.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    sourcemap: true,
    // Stack traces only need the mappings; embedding sources would double the upload.
    sourcesContent: false,
    mainFields: ['module', 'main'],
    external: ['sharp'],
    // CommonJS dependencies inside an ESM bundle still call require().
    banner: { js: ESM_REQUIRE_BANNER },
    plugins: [zodEnglishOnly, initEntry(resolve(entry))],
    logLevel: 'warning',
  });
  return outfile;
}

// `tsx scripts/build.ts` builds every function into .build/; `--fn NAME --outdir DIR` builds one
// (the CDK bundling hook uses that to write the deployed artifact). No top-level await: the tests
// import bundleFunction from here into CommonJS.
async function main(): Promise<void> {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const one = arg('--fn');
  if (one !== undefined && !(FUNCTIONS as readonly string[]).includes(one)) {
    throw new Error(`unknown function "${one}" (known: ${FUNCTIONS.join(', ')})`);
  }
  for (const fn of one ? [one] : FUNCTIONS) {
    const outdir = arg('--outdir') ?? `.build/${fn}`;
    const out = await bundleFunction(fn, outdir, arg('--entry'));
    process.stdout.write(`built ${out}\n`);
    if (fn === APP_SERVED_BY) {
      writeAppAssets(join(outdir, 'app'), await buildAppAssets());
      process.stdout.write(`built ${outdir}/app (the reference app)\n`);
    }
  }
}

if (process.argv[1]?.endsWith('build.ts')) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  });
}
