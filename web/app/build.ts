// Building the reference app: the esbuild bundle of web/app/ui (React and @elevenlabs/react
// inside, no runtime CDN), its page and stylesheet, and the ElevenLabs SDK's audio worklets
// self-hosted so the CSP needs no blob: scripts. In memory (make dev, tests) or into a folder
// (scripts/build.ts: .build/sessions/app, deployed with the sessions function).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { bundleForBrowser } from '../bundle';
import { APP_FILES, type AppAssets, WORKLETS } from './assets';

export async function buildAppAssets(root = process.cwd()): Promise<AppAssets> {
  const here = join(root, 'web', 'app');
  const worklets = join(root, 'node_modules', '@elevenlabs', 'client', 'worklets');
  return {
    '/': readFileSync(join(here, 'index.html'), 'utf8'),
    '/app.js': await bundleForBrowser(join(here, 'ui', 'main.tsx'), { minify: true }),
    '/app.css': readFileSync(join(here, 'app.css'), 'utf8'),
    ...Object.fromEntries(WORKLETS.map((w) => [`/worklets/${w}`, readFileSync(join(worklets, w), 'utf8')])),
  };
}

export function writeAppAssets(dir: string, assets: AppAssets): void {
  for (const [path, file] of Object.entries(APP_FILES)) {
    const body = assets[path];
    if (body === undefined) continue;
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), body);
  }
}
