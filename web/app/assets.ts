// The reference app as files a server hands out: the esbuild bundle of web/app/ui (React and
// @elevenlabs/react inside, no CDN), its stylesheet and page, and the ElevenLabs SDK's audio
// worklets self-hosted so the CSP needs no blob: scripts. Built in memory (make dev, tests) or
// written to a folder (scripts/build.ts, deployed with the sessions function), and mounted on a
// Router with a strict CSP.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Router } from '../../shared/http/router';
import { bundleForBrowser } from '../bundle';

/** URL path -> file content; the paths the page and the SDK ask for. */
export type AppAssets = Record<string, string>;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** The worklets @elevenlabs/client ships (package export `./worklets/*`) and loads from `workletPaths`. */
const WORKLETS = ['rawAudioProcessor.js', 'audioConcatProcessor.js'];

/** File names on disk for each path (`/` is index.html). */
export const APP_FILES: Record<string, string> = {
  '/': 'index.html',
  '/app.js': 'app.js',
  '/app.css': 'app.css',
  ...Object.fromEntries(WORKLETS.map((w) => [`/worklets/${w}`, `worklets/${w}`])),
};

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

/** The assets written by writeAppAssets, or undefined when the folder does not hold the app. */
export function readAppAssets(dir: string): AppAssets | undefined {
  try {
    return Object.fromEntries(
      Object.entries(APP_FILES).map(([path, file]) => [path, readFileSync(join(dir, file), 'utf8')]),
    );
  } catch {
    return undefined;
  }
}

/**
 * Only this origin's scripts and styles (no inline code at all), images from blob: previews and
 * data:, and connections to this origin plus `connect` (the uploads API, the bucket, ElevenLabs).
 */
export function appCsp(connect: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob: data:",
    "media-src 'self' blob:",
    `connect-src ${["'self'", ...new Set(connect)].join(' ')}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Where ElevenLabs conversations connect: its API (websocket) and its WebRTC hosts. */
export const ELEVENLABS_CONNECT = ['https://*.elevenlabs.io', 'wss://*.elevenlabs.io'];

/** The app at GET / and its files, each with the CSP and the usual hardening headers. */
export function mountApp(router: Router, assets: AppAssets, opts: { connect: readonly string[] }): Router {
  const headers = {
    'content-security-policy': appCsp(opts.connect),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    // Camera and microphone for this origin only; nothing else the page does not use.
    'permissions-policy': 'camera=(self), microphone=(self), geolocation=()',
    'cache-control': 'no-cache',
  };
  for (const [path, body] of Object.entries(assets)) {
    const ext = path === '/' ? '.html' : path.slice(path.lastIndexOf('.'));
    router.on('GET', path, async () => ({
      status: 200,
      headers: { ...headers, 'content-type': CONTENT_TYPES[ext] ?? 'application/octet-stream' },
      body,
    }));
  }
  return router;
}

/** The origin (http/https and the matching ws/wss) of a URL, for connect-src. */
export function connectOrigins(url: string | undefined): string[] {
  if (!url || !URL.canParse(url)) return [];
  const u = new URL(url);
  const ws = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return [u.origin, `${ws}//${u.host}`];
}
