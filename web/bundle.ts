// esbuild settings for code that runs in browsers (the client module, and the reference app
// next): one self-contained script, no runtime CDN, for evergreen browsers. Bundled in memory.
import { build } from 'esbuild';

export interface BrowserBundleOptions {
  /** Exposes the entry's exports as this global (an IIFE), for pages and tests that script it. */
  globalName?: string;
  minify?: boolean;
}

export async function bundleForBrowser(entry: string, opts: BrowserBundleOptions = {}): Promise<string> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: 'browser',
    format: opts.globalName ? 'iife' : 'esm',
    ...(opts.globalName ? { globalName: opts.globalName } : {}),
    target: ['chrome120', 'firefox120', 'safari17'],
    minify: opts.minify ?? false,
    // React's production build, and JSX for the app's .tsx files.
    define: { 'process.env.NODE_ENV': '"production"' },
    jsx: 'automatic',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const file = out.outputFiles[0];
  if (!file) throw new Error(`esbuild wrote nothing for ${entry}`);
  return file.text;
}
