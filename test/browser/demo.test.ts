// The demo page (infra/local/demo/) in a real browser: Debian's Chromium driven by playwright-core
// against the whole local product (startDevApp: chat + sessions + uploads + DynamoDB and S3
// emulators) with a fake OpenAI upstream. A real JPEG through the file input and a drawing from the
// canvas go to the S3 emulator with presigned POSTs (cross-origin: its bucket CORS is exercised),
// a typed chat turn streams back, and the upstream must have received both images.
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import type { BrowserApiOptions } from '../../functions/host/browser-api';
import { type DevApp, startDevApp } from '../../infra/local/dev-app';
import { createNodeHost } from '../../infra/local/node-host';
import type { Env } from '../../shared/env-vars';
import type { HttpHandler } from '../../shared/http/types';
import { silentLogger } from '../../shared/observability/log';
import { startFakeElevenLabs } from '../fakes/elevenlabs-server';
import { type FakeOpenAIServer, openaiReply, startOpenAIServer } from '../fakes/openai-server';
import { cameraPhoto } from '../helpers/camera-photo';
import { describeWithChromium as describeWith, launchChromium } from '../helpers/chromium';

const describeWithChromium = describeWith('the demo page');

const SCREENSHOT = join(process.cwd(), '.build', 'demo-page.png');
const REPLY = ['I can see', ' a photo', ' and a drawing', ' of a line.'];
const NOT_AN_IMAGE =
  'The file is not an image this server recognises (its content, not its name, is checked).';

interface DemoServer {
  url: string;
  dev: DevApp;
  close(): Promise<void>;
}

/**
 * The dev app behind the node host, listening first: the page's origin (with its port 0 port)
 * must be known before the app starts, since it is an allowed origin of the browser API and of
 * the S3 emulator's CORS. PORT makes startDevApp derive them exactly as `make dev` does.
 */
async function startDemoServer(env: Env, browser: BrowserApiOptions): Promise<DemoServer> {
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
      env: { ...env, PORT: String(port) },
      browser,
      log: silentLogger,
      writeMetrics: () => {},
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

type Part = { type: string; text?: string; image_url?: { url: string } };
type Msg = { role: string; content: string | Part[] };

async function imageSize(dataUri: string): Promise<string> {
  const meta = await sharp(Buffer.from(dataUri.slice(dataUri.indexOf(',') + 1), 'base64')).metadata();
  return `${meta.width}x${meta.height}`;
}

describeWithChromium('the demo page in Chromium', () => {
  let upstream: FakeOpenAIServer;
  let server: DemoServer;
  let browser: Browser;
  let page: Page;
  let images: Server;
  /** CSP violations and uncaught page errors: the page must run clean under its own policy. */
  const pageProblems: string[] = [];

  beforeAll(async () => {
    // Paced tokens, so the page visibly renders the stream as it arrives.
    upstream = await startOpenAIServer();
    upstream.setDefault(openaiReply({ text: REPLY }, { delayMs: 40 }));
    // An image for the URL field: the server fetches it, here from loopback (allowed for this test only).
    const png = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#e4572e' } })
      .png()
      .toBuffer();
    images = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(png));
    await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
    // Both at once; whichever started is closed in afterAll even if the other failed.
    const [started, launched] = await Promise.allSettled([
      startDemoServer(
        { OPENAI_API_KEY: 'sk-upstream', OPENAI_BASE_URL: `${upstream.url}/v1` },
        { urlFetch: { allowHttp: true, addressPolicy: (ip) => ip === '127.0.0.1' } },
      ),
      launchChromium(),
    ]);
    if (started.status === 'fulfilled') server = started.value;
    if (launched.status === 'fulfilled') browser = launched.value;
    if (started.status === 'rejected') throw started.reason;
    if (launched.status === 'rejected') throw launched.reason;
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    page = await context.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) pageProblems.push(m.text());
    });
    page.on('pageerror', (err) => pageProblems.push(String(err)));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await upstream?.close();
    images?.closeAllConnections();
    await new Promise((resolve) => (images ? images.close(resolve) : resolve(undefined)));
  });

  test('GET / serves the page with a strict CSP naming the S3 emulator', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    const s3Origin = new URL(server.dev.emulators.s3Endpoint).origin;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain(`connect-src 'self' ${s3Origin};`);
    expect(csp).toMatch(/style-src 'sha256-[A-Za-z0-9+/]+=*'/);
    // No ElevenLabs agent configured: no voice, so nothing from esm.sh.
    expect(csp).not.toContain('esm.sh');
    const js = await fetch(`${server.url}/demo.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  test('opening the page creates a session', async () => {
    await page.goto(`${server.url}/`);
    await page.locator('body[data-session="ready"]').waitFor();
    expect(await page.locator('#session-id').textContent()).toMatch(/^s_/);
  });

  test('a photo from the file input and a drawing from the canvas become ready, normalized', async () => {
    const photo = await cameraPhoto(1600, 1200);
    await page.setInputFiles('#file-input', { name: 'photo.jpg', mimeType: 'image/jpeg', buffer: photo });

    const canvas = await page.locator('#canvas').boundingBox();
    if (!canvas) throw new Error('the canvas is not visible');
    await page.mouse.move(canvas.x + 40, canvas.y + 40);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) {
      await page.mouse.move(canvas.x + 40 + i * 30, canvas.y + 40 + i * 18);
    }
    await page.mouse.up();
    await page.getByRole('button', { name: 'Send drawing' }).click();

    const photoRow = page.locator('#images li', { hasText: 'photo.jpg' });
    const drawingRow = page.locator('#images li', { hasText: 'drawing.png' });
    await photoRow.and(page.locator('[data-status="ready"]')).waitFor();
    await drawingRow.and(page.locator('[data-status="ready"]')).waitFor();
    // The sizes the complete call answered: the photo scaled under 1.15 megapixels, the drawing as drawn.
    expect(await photoRow.locator('.state').textContent()).toMatch(/^Ready · 1238 × 928 px · \d+ KB/);
    expect(await drawingRow.locator('.state').textContent()).toMatch(/^Ready · 480 × 320 px/);
    expect(await drawingRow.getAttribute('data-slot')).toBe('canvas');
  });

  test('a typed turn streams the answer, and the model received both images', async () => {
    upstream.requests.length = 0;
    // Every rendering of the answer, recorded in the page as it changes.
    await page.evaluate(`(() => {
      window.__answers = [];
      new MutationObserver(() => {
        const last = [...document.querySelectorAll('#transcript .msg.assistant')].at(-1);
        if (last && last.textContent) window.__answers.push(last.textContent);
      }).observe(document.getElementById('transcript'), { subtree: true, childList: true, characterData: true });
    })()`);
    await page.getByLabel('Message').fill('What do you see?');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const full = REPLY.join('');
    await page.locator('#transcript .msg.assistant', { hasText: full }).waitFor();
    const renderings = (await page.evaluate('window.__answers')) as string[];
    // Token by token, not all at once at the end.
    expect(renderings.length).toBeGreaterThanOrEqual(3);
    expect(renderings.at(-1)).toBe(full);
    renderings.forEach((text, i) => {
      expect(full.startsWith(text)).toBe(true);
      if (i > 0) expect(text.length).toBeGreaterThanOrEqual(renderings[i - 1]!.length);
    });

    expect(upstream.requests).toHaveLength(1);
    const body = upstream.requests[0]!.body as { stream: boolean; messages: Msg[] };
    expect(body.stream).toBe(true);
    const user = body.messages.at(-1)!;
    expect(user.role).toBe('user');
    const parts = typeof user.content === 'string' ? [] : user.content;
    expect(parts.filter((p) => p.type === 'text').map((p) => p.text)).toContain('What do you see?');
    const sentImages = parts.filter((p) => p.type === 'image_url').map((p) => p.image_url!.url);
    expect(sentImages).toHaveLength(2);
    expect((await Promise.all(sentImages.map(imageSize))).sort()).toEqual(['1238x928', '480x320']);
  });

  test('an image URL is fetched and normalized by the server', async () => {
    const url = `http://127.0.0.1:${(images.address() as AddressInfo).port}/red.png`;
    await page.getByLabel('Address of a public image').fill(url);
    await page.getByRole('button', { name: 'Add from URL' }).click();
    const row = page.locator('#images li', { hasText: url });
    await row.and(page.locator('[data-status="ready"]')).waitFor();
    expect(await row.locator('.state').textContent()).toMatch(/^Ready · 300 × 200 px/);
  });

  test('with an ElevenLabs agent configured, the voice button appears and nothing loads before a click', async () => {
    const elevenLabs = await startFakeElevenLabs();
    const voiceServer = await startDemoServer(
      {
        ELEVENLABS_API_KEY: elevenLabs.apiKey,
        ELEVENLABS_AGENT_ID: elevenLabs.agentId,
        ELEVENLABS_BASE_URL: elevenLabs.url,
      },
      {},
    );
    const voicePage = await page.context().newPage();
    const requested: string[] = [];
    voicePage.on('request', (r) => requested.push(r.url()));
    try {
      const res = await voicePage.goto(`${voiceServer.url}/`);
      expect(res?.headers()['content-security-policy']).toContain("script-src 'self' https://esm.sh blob:;");
      await voicePage.getByRole('button', { name: 'Start voice' }).waitFor();
      expect(elevenLabs.requests.map((r) => new URL(r.path, 'http://x').pathname)).toEqual([
        '/v1/convai/conversation/token',
      ]);
      // The ElevenLabs API key never reaches the page; the client library loads only on a click.
      expect(await voicePage.content()).not.toContain(elevenLabs.apiKey);
      expect(requested.filter((u) => !u.startsWith(voiceServer.url))).toEqual([]);
    } finally {
      await voicePage.close();
      await voiceServer.close();
      await elevenLabs.close();
    }
  });

  test('a text file named .jpg is refused with the precise reason', async () => {
    await page.setInputFiles('#file-input', {
      name: 'notes.jpg',
      mimeType: 'image/jpeg',
      buffer: Buffer.from('Shopping list:\n- milk\n- bread\n'),
    });
    const row = page.locator('#images li', { hasText: 'notes.jpg' });
    await row.and(page.locator('[data-status="error"]')).waitFor();
    const text = await row.locator('.state').textContent();
    expect(text).toContain(NOT_AN_IMAGE);
    expect(text).toContain('(not_an_image)');

    expect(pageProblems).toEqual([]);
    mkdirSync(join(process.cwd(), '.build'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });
});
