// How every function is bundled: esbuild runs locally (no Docker), emits one minified ESM file
// per function, and native modules (sharp) are installed beside it for linux-arm64.
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';

/**
 * esbuild's ESM output turns a CommonJS dependency's `require('x')` into a shim that throws
 * unless a `require` exists at module scope; this gives it one. esbuild never emits a top-level
 * binding named `require` itself, so the name cannot collide with bundled code.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);";

/**
 * npm settings for installing native modules into a bundle: the Lambda platform (Amazon Linux
 * 2023, glibc, Graviton) instead of the build machine's, and the local npm cache first so a
 * repeated synth needs no network. sharp publishes its binaries as per-platform packages
 * (@img/sharp-linux-arm64, @img/sharp-libvips-linux-arm64), so npm only has to pick them.
 */
export const LAMBDA_NATIVE_INSTALL_ENV: Readonly<Record<string, string>> = {
  npm_config_os: 'linux',
  npm_config_cpu: 'arm64',
  npm_config_libc: 'glibc',
  npm_config_prefer_offline: 'true',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};

export interface FunctionBundlingInput {
  /** Packages kept out of the bundle and installed into node_modules/ beside it (native code). */
  nativeModules: readonly string[];
  /** The function's name (chat, sessions, uploads) and its entry file. */
  name: string;
  entry: string;
}

/**
 * CDK's esbuild step writes one file (it has no code splitting). Right after it, the project's
 * own build (scripts/build.ts, the one `make bench` measures) rewrites index.mjs with code
 * splitting, so the SDKs a configuration never uses sit in chunks that are never parsed at cold
 * start. The deployed artifact is therefore exactly the benchmarked one.
 */
function splitBundleCommand(inputDir: string, outputDir: string, name: string, entry: string): string {
  return `cd "${inputDir}" && node_modules/.bin/tsx scripts/build.ts --fn ${name} --entry "${entry}" --outdir "${outputDir}"`;
}

export function functionBundling(input: FunctionBundlingInput): BundlingOptions {
  const native = [...input.nativeModules];
  const afterBundling = (inputDir: string, outputDir: string) => [
    splitBundleCommand(inputDir, outputDir, input.name, input.entry),
    ...(native.length > 0
      ? // CDK copies the whole repository lock file in to drive `npm ci`; the function does not need it.
        [`rm -f "${outputDir}/package-lock.json" "${outputDir}/node_modules/.package-lock.json"`]
      : []),
  ];
  return {
    format: OutputFormat.ESM,
    target: 'node22',
    minify: true,
    sourceMap: true,
    // Stack traces only need the mappings; embedding sources would double the upload.
    sourcesContent: false,
    // Prefer packages' ESM builds so esbuild can tree-shake them.
    mainFields: ['module', 'main'],
    banner: ESM_REQUIRE_BANNER,
    // The AWS SDK v3 is bundled, not taken from the runtime: pinned to package-lock.json (the
    // version the tests ran), tree-shaken, and not dependent on which @aws-sdk packages a given
    // runtime release ships. Sizes and the trade-off: docs/deploying.md.
    externalModules: [],
    // No logLevel: CDK passes it to both esbuild and `npm ci`, which disagree on the names.
    commandHooks: { beforeBundling: () => [], beforeInstall: () => [], afterBundling },
    ...(native.length > 0 ? { nodeModules: native, environment: { ...LAMBDA_NATIVE_INSTALL_ENV } } : {}),
  };
}
