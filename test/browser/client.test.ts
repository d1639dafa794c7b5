// The browser client module (web/client), bundled by esbuild, in Debian's Chromium on a page of
// its own origin calling the local product cross-origin, as a deployed frontend does: CORS on the
// API and on the S3 emulator's bucket, the presigned POST through XMLHttpRequest with upload
// progress, removal, and the API's precise error codes as VisionApiError.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { bundleForBrowser } from '../../web/bundle';
import { cameraPhoto } from '../helpers/camera-photo';
import { describeWithChromium, launchChromium } from '../helpers/chromium';
import { type RunningDevServer, startDevServer } from '../helpers/dev-server';

const describeChromium = describeWithChromium('the browser client module');

describeChromium('the client module in Chromium', () => {
  let page: Page;
  let browser: Browser;
  let site: Server;
  let dev: RunningDevServer;
  const problems: string[] = [];

  beforeAll(async () => {
    const script = await bundleForBrowser(join(process.cwd(), 'web', 'client', 'index.ts'), {
      globalName: 'VisionClient',
    });
    // The page's origin must be known before the API starts: it is the only allowed origin.
    site = createServer((req, res) => {
      if (req.url === '/client.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      else
        res
          .writeHead(200, {
            'content-type': 'text/html; charset=utf-8',
            'content-security-policy': `default-src 'none'; script-src 'self'; connect-src ${dev.url} ${new URL(dev.dev.emulators.s3Endpoint).origin}`,
          })
          .end('<!doctype html><title>client</title><script src="/client.js"></script>');
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    const [started, launched] = await Promise.allSettled([
      startDevServer({ env: { ALLOWED_ORIGINS: origin } }),
      launchChromium(),
    ]);
    if (started.status === 'fulfilled') dev = started.value;
    if (launched.status === 'fulfilled') browser = launched.value;
    if (started.status === 'rejected') throw started.reason;
    if (launched.status === 'rejected') throw launched.reason;
    page = await browser.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy|CORS/i.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (err) => problems.push(String(err)));
    await page.goto(`${origin}/`);
    await page.waitForFunction('typeof window.VisionClient === "object"');
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await dev?.close();
    site?.closeAllConnections();
    await new Promise((resolve) => (site ? site.close(resolve) : resolve(undefined)));
  });

  test('a photo goes to S3 through XMLHttpRequest with progress, becomes ready, and is removed', async () => {
    const photo = (await cameraPhoto(1600, 1200)).toString('base64');
    const result = (await page.evaluate(
      async ({ apiUrl, photo }) => {
        type Client = typeof import('../../web/client');
        const client = (globalThis as unknown as { VisionClient: Client }).VisionClient;
        const session = await client.createSession({ apiUrl });
        const bytes = Uint8Array.from(atob(photo), (c) => c.charCodeAt(0));
        const progress: [number, number][] = [];
        const image = await session.addFile(new Blob([bytes], { type: 'image/jpeg' }), {
          onProgress: (p) => progress.push([p.loaded, p.total]),
        });
        const before = (await session.listImages()).map((i) => i.imageId);
        await session.removeImage(image.imageId);
        const after = (await session.listImages()).map((i) => i.imageId);
        const again = await session.removeImage(image.imageId).catch((e: unknown) => e);
        return {
          image,
          progress,
          size: bytes.length,
          before,
          after,
          again: {
            isVisionApiError: again instanceof client.VisionApiError,
            status: (again as { status?: number }).status,
            code: (again as { code?: string }).code,
          },
        };
      },
      { apiUrl: dev.url, photo },
    )) as {
      image: { imageId: string; width: number; height: number; status: string };
      progress: [number, number][];
      size: number;
      before: string[];
      after: string[];
      again: { isVisionApiError: boolean; status: number; code: string };
    };
    expect(result.image).toMatchObject({ status: 'ready', width: 1238, height: 928 });
    // XMLHttpRequest's upload events: a start, then what the browser sent (the form is the
    // photo plus the policy fields, so its total is a little more than the photo).
    expect(result.progress[0]).toEqual([0, result.size]);
    const last = result.progress.at(-1)!;
    expect(result.progress.length).toBeGreaterThanOrEqual(2);
    expect(last[0]).toBe(last[1]);
    expect(last[1]).toBeGreaterThan(result.size);
    expect(result.before).toEqual([result.image.imageId]);
    expect(result.after).toEqual([]);
    expect(result.again).toEqual({ isVisionApiError: true, status: 404, code: 'image_not_found' });
    expect(problems).toEqual([]);
  }, 60_000);

  test('a refused file rejects with the server’s code and reason', async () => {
    const refused = (await page.evaluate(async (apiUrl) => {
      type Client = typeof import('../../web/client');
      const client = (globalThis as unknown as { VisionClient: Client }).VisionClient;
      const session = await client.createSession({ apiUrl });
      const err = await session
        .addFile(new Blob(['Shopping list:\n- milk\n'], { type: 'image/jpeg' }))
        .catch((e: unknown) => e as { status: number; code: string; message: string });
      const { status, code, message } = err as { status: number; code: string; message: string };
      return {
        err: { status, code, message, typed: err instanceof client.VisionApiError },
        left: (await session.listImages()).length,
      };
    }, dev.url)) as { err: { status: number; code: string; message: string; typed: boolean }; left: number };
    expect(refused.err).toMatchObject({ status: 400, code: 'not_an_image', typed: true });
    expect(refused.err.message).toContain('not an image');
    expect(refused.left).toBe(0);
  }, 60_000);
});
