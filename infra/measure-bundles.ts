// Measures each function's bundle with the AWS SDK bundled and with it left to the Lambda
// runtime, using the same esbuild settings as the CDK stack. The numbers in docs/deploying.md
// come from here: `tsx infra/measure-bundles.ts [entriesRoot]`.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { build } from 'esbuild';
import { FUNCTION_NAMES, missingEntries } from './build-app';
import { entryPath } from './constructs/backend-function';
import { ESM_REQUIRE_BANNER } from './constructs/bundling';

/** What CDK leaves to the runtime by default for Node 18+ (with the smithy feature flag on). */
const RUNTIME_SDK = ['@aws-sdk/*', '@smithy/*'];
const NATIVE = ['sharp'];

interface Measurement {
  bytes: number;
  /** Deflate size: roughly what the function's zip adds for this file. */
  zipped: number;
}

async function measure(entry: string, external: string[]): Promise<Measurement> {
  const dir = mkdtempSync(join(tmpdir(), 'bundle-size-'));
  try {
    const outfile = join(dir, 'index.mjs');
    await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      minify: true,
      mainFields: ['module', 'main'],
      banner: { js: ESM_REQUIRE_BANNER },
      external: [...external, ...NATIVE],
      outfile,
      logLevel: 'error',
    });
    return { bytes: statSync(outfile).size, zipped: deflateRawSync(readFileSync(outfile)).length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`;

async function main(): Promise<void> {
  const entriesRoot = process.argv[2] ?? 'functions';
  const missing = missingEntries(entriesRoot);
  if (missing.length > 0) {
    process.stderr.write(`missing entries:\n${missing.map((m) => `  ${m}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write(
    '| function | SDK bundled (min / zipped) | SDK from runtime (min / zipped) |\n|---|---|---|\n',
  );
  for (const name of FUNCTION_NAMES) {
    const entry = entryPath(entriesRoot, name);
    const bundled = await measure(entry, []);
    const external = await measure(entry, RUNTIME_SDK);
    process.stdout.write(
      `| ${name} | ${kb(bundled.bytes)} / ${kb(bundled.zipped)} | ${kb(external.bytes)} / ${kb(external.zipped)} |\n`,
    );
  }
}

await main();
