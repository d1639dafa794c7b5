// The whole local product (startDevApp: chat + sessions + uploads + emulators) behind the real
// node host on a loopback port, plus small browser-side helpers for tests and benchmarks.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type DevApp, type DevAppOptions, startDevApp } from '../../infra/local/dev-app';
import { createNodeHost } from '../../infra/local/node-host';
import type { HttpHandler } from '../../shared/http/types';
import { silentLogger } from '../../shared/observability/log';
import { serveOnLoopback } from './serve';

export interface RunningDevServer {
  url: string;
  dev: DevApp;
  close(): Promise<void>;
}

export async function startDevServer(opts: DevAppOptions): Promise<RunningDevServer> {
  const dev = await startDevApp({ log: silentLogger, writeMetrics: () => {}, ...opts });
  const served = await serveOnLoopback(dev.app.handler, {
    maxBodyBytes: 20 * 1024 * 1024,
    extraHeaders: (r) => dev.corsHeaders(r),
  });
  return {
    url: served.url,
    dev,
    async close() {
      await served.close();
      await dev.close();
    },
  };
}

/**
 * Like startDevServer, but listening first, as `make dev` does: the page served at `/` is on the
 * server's own origin, which must be known before the app starts (it is the allowed origin of the
 * browser API and of the S3 emulator's CORS). PORT makes startDevApp derive them.
 */
export async function startSameOriginDevServer(opts: DevAppOptions): Promise<RunningDevServer> {
  let app: DevApp | undefined;
  const handler: HttpHandler = (req, signal) => app!.app.handler(req, signal);
  const server: Server = createNodeHost(handler, {
    maxBodyBytes: 20 * 1024 * 1024,
    extraHeaders: (r) => app?.corsHeaders(r) ?? {},
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    app = await startDevApp({
      log: silentLogger,
      writeMetrics: () => {},
      ...opts,
      env: { ...opts.env, PORT: String(port) },
    });
  } catch (err) {
    server.close();
    throw err;
  }
  const dev = app;
  return {
    url: `http://127.0.0.1:${port}`,
    dev,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dev.close();
    },
  };
}

export interface BrowserSession {
  sessionId: string;
  sessionSecret: string;
}

/** What a browser does: POST /sessions with an allowed Origin. */
export async function createBrowserSession(base: string, origin: string): Promise<BrowserSession> {
  const res = await fetch(`${base}/sessions`, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json' },
    body: '{}',
  });
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`POST /sessions: ${res.status} ${await res.text()}`);
  return (await res.json()) as BrowserSession;
}

/** Presign, multipart POST straight to S3 (the emulator), then complete: the browser's upload. */
export async function uploadThroughS3(
  base: string,
  origin: string,
  session: BrowserSession,
  bytes: Buffer,
  opts: { slot?: string; contentType?: string } = {},
): Promise<{ imageId: string; status: number; body: Record<string, unknown> }> {
  const contentType = opts.contentType ?? 'image/jpeg';
  const headers = { origin, 'content-type': 'application/json', 'x-session-secret': session.sessionSecret };
  const formRes = await fetch(`${base}/sessions/${session.sessionId}/images`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      contentType,
      contentLength: bytes.length,
      ...(opts.slot ? { slot: opts.slot } : {}),
    }),
  });
  const form = (await formRes.json()) as {
    imageId: string;
    upload: { url: string; fields: Record<string, string> };
  };
  if (formRes.status >= 300) throw new Error(`presign: ${formRes.status} ${JSON.stringify(form)}`);
  const data = new FormData();
  for (const [k, v] of Object.entries(form.upload.fields)) data.append(k, v);
  data.append('file', new Blob([bytes], { type: contentType }), 'upload.jpg');
  const posted = await fetch(form.upload.url, { method: 'POST', body: data });
  if (posted.status >= 300) throw new Error(`S3 POST: ${posted.status} ${await posted.text()}`);
  const done = await fetch(`${base}/sessions/${session.sessionId}/images/${form.imageId}/complete`, {
    method: 'POST',
    headers,
  });
  return { imageId: form.imageId, status: done.status, body: (await done.json()) as Record<string, unknown> };
}
