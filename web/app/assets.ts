// Serving the reference app: its files (built by web/app/build.ts, in memory or from a folder)
// mounted on a Router, each with a strict CSP. No esbuild here: the sessions function imports it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserApiConfig } from '../../shared/browser-api/config';
import type { Router } from '../../shared/http/router';

/** URL path -> file content; the paths the page and the SDK ask for. */
export type AppAssets = Record<string, string>;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** The worklets @elevenlabs/client ships (package export `./worklets/*`) and loads from `workletPaths`. */
export const WORKLETS = ['rawAudioProcessor.js', 'audioConcatProcessor.js'];

/** File names on disk for each path (`/` is index.html). */
export const APP_FILES: Record<string, string> = {
  '/': 'index.html',
  '/app.js': 'app.js',
  '/app.css': 'app.css',
  ...Object.fromEntries(WORKLETS.map((w) => [`/worklets/${w}`, `worklets/${w}`])),
};

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
 * Only this origin's scripts and styles (no inline code at all), images from blob: previews,
 * data: and `images` (the bucket: generated images are shown through presigned URLs), and
 * connections to this origin plus `connect` (the uploads API, the bucket, ElevenLabs).
 */
export function appCsp(connect: readonly string[], images: readonly string[] = []): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src ${["'self'", 'blob:', 'data:', ...new Set(images)].join(' ')}`,
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
export function mountApp(
  router: Router,
  assets: AppAssets,
  opts: { connect: readonly string[]; images?: readonly string[] },
): Router {
  const headers = {
    'content-security-policy': appCsp(opts.connect, opts.images),
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

/**
 * Where the app's page connects besides its own origin, from the browser API's configuration:
 * the uploads API (its own function URL when deployed), the bucket's presigned POSTs (the
 * emulator locally; the bucket's regional host on AWS), and ElevenLabs (a configured base URL,
 * or its public hosts).
 */
export function appConnectFor(config: BrowserApiConfig): string[] {
  return [
    ...(config.uploadsUrl ? [new URL(config.uploadsUrl).origin] : []),
    appBucketOrigin(config),
    ...(config.elevenLabs?.baseUrl ? connectOrigins(config.elevenLabs.baseUrl) : ELEVENLABS_CONNECT),
  ];
}

/**
 * The images bucket's origin as the browser reaches it (the emulator locally; the bucket's
 * regional virtual-hosted name on AWS): presigned POSTs go there, presigned GETs come from there.
 */
export function appBucketOrigin(config: BrowserApiConfig): string {
  return config.endpoints.s3
    ? new URL(config.endpoints.s3).origin
    : `https://${config.imagesBucket}.s3.${config.region ?? 'us-east-1'}.amazonaws.com`;
}

/** The app's files in `dir` (written there by the build), mounted on `router`; false when absent. */
export function mountAppFrom(dir: string, router: Router, config: BrowserApiConfig): boolean {
  const assets = readAppAssets(dir);
  if (!assets) return false;
  mountApp(router, assets, { connect: appConnectFor(config), images: [appBucketOrigin(config)] });
  return true;
}
