// Bundles each function the way the deployed stack does (ESM, minified, source maps, node22),
// into .build/<function>/index.mjs. Used by `make build` and by the benchmark for bundle size
// and cold import time. sharp stays external: it is a native module, installed per platform.
import { mkdirSync } from 'node:fs';
import { build } from 'esbuild';

export const FUNCTIONS = ['chat', 'sessions', 'uploads'] as const;

export async function bundleFunction(name: string, outdir = `.build/${name}`): Promise<string> {
  mkdirSync(outdir, { recursive: true });
  const outfile = `${outdir}/index.mjs`;
  await build({
    entryPoints: { index: `functions/${name}/handler.ts` },
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
    mainFields: ['module', 'main'],
    external: ['sharp'],
    // CommonJS dependencies inside an ESM bundle still call require().
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'warning',
  });
  return outfile;
}

if (process.argv[1]?.endsWith('build.ts')) {
  const { existsSync } = await import('node:fs');
  for (const fn of FUNCTIONS) {
    if (!existsSync(`functions/${fn}/handler.ts`)) continue;
    const out = await bundleFunction(fn);
    process.stdout.write(`built ${out}\n`);
  }
}
