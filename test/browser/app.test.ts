// The reference app (web/app) end to end in Debian's Chromium with fake media devices: the whole
// local product (startDevApp) serves it at `/`, a fake ElevenLabs (signed URL + the real
// Conversational AI websocket protocol) carries the conversation and calls the product's
// /v1/chat/completions as ElevenLabs does, and a fake OpenAI upstream records what the model saw.
// Every way of showing an image (file, paste, camera, drawing) is followed by a typed question
// whose answer must appear in the transcript, with that image in the model's request.
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { type FakeElevenLabs, startFakeElevenLabs } from '../fakes/elevenlabs-server';
import { type FakeOpenAIServer, startOpenAIServer } from '../fakes/openai-server';
import { cameraPhoto } from '../helpers/camera-photo';
import { axeViolations, describeWithChromium, launchChromium, pageWidths } from '../helpers/chromium';
import { type RunningDevServer, startSameOriginDevServer } from '../helpers/dev-server';
import { FAKE_CAMERA_SIZE, writeFakeCameraFile } from '../helpers/fake-camera';
import { eventually } from '../integration/resilience/harness';

const describeChromium = describeWithChromium('the reference app (voice, images, camera, drawing)');

const SCREENSHOTS = join(process.cwd(), '.build', 'screenshots');
const NOT_AN_IMAGE =
  'The file is not an image this server recognises (its content, not its name, is checked).';

type Part = { type: string; text?: string; image_url?: { url: string } };
type Msg = { role: string; content: string | Part[] };

async function imageSize(dataUri: string): Promise<string> {
  const meta = await sharp(Buffer.from(dataUri.slice(dataUri.indexOf(',') + 1), 'base64')).metadata();
  return `${meta.width}x${meta.height}`;
}

describeChromium('the reference app in Chromium', () => {
  let upstream: FakeOpenAIServer;
  let elevenLabs: FakeElevenLabs;
  let server: RunningDevServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let tmp: string;
  /** CSP violations and uncaught page errors: the app must run clean under its own policy. */
  const problems: string[] = [];

  const shot = (name: string, p: Page = page) =>
    p.screenshot({ path: join(SCREENSHOTS, `app-${name}.png`), fullPage: true });

  /** A typed question through the conversation; resolves with the images the model received for it, and its request. */
  async function ask(question: string): Promise<{ sizes: string[]; body: { messages: Msg[] } }> {
    const answer = `Answer to: ${question}`;
    upstream.requests.length = 0;
    upstream.replyWith([answer.slice(0, 10), answer.slice(10)]);
    await page.getByLabel('Message').fill(question);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.locator('.transcript .line.agent', { hasText: answer }).waitFor();
    expect(upstream.requests).toHaveLength(1);
    const body = upstream.requests[0]!.body as { messages: Msg[] };
    const user = body.messages.at(-1)!;
    expect(user.role).toBe('user');
    const parts = typeof user.content === 'string' ? [{ type: 'text', text: user.content }] : user.content;
    expect(parts.filter((p) => p.type === 'text').map((p) => p.text)).toContain(question);
    // The product keeps each image where it first appeared in the history (a stable prefix for
    // prompt caching), so the images of a turn are those of every message it carries.
    const urls = body.messages
      .flatMap((m) => (typeof m.content === 'string' ? [] : m.content))
      .filter((p) => p.type === 'image_url')
      .map((p) => p.image_url!.url);
    return { sizes: await Promise.all(urls.map(imageSize)), body };
  }

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    tmp = await mkdtemp(join(tmpdir(), 'app-e2e-'));
    const camera = await writeFakeCameraFile(join(tmp, 'camera.y4m'));
    upstream = await startOpenAIServer();
    elevenLabs = await startFakeElevenLabs({
      // The agent's custom LLM is this product; its URL is known once it listens.
      conversation: { llmUrl: () => `${server.url}/v1` },
    });
    const [started, launched] = await Promise.allSettled([
      startSameOriginDevServer({
        env: {
          OPENAI_API_KEY: 'sk-upstream',
          OPENAI_BASE_URL: `${upstream.url}/v1`,
          ELEVENLABS_API_KEY: elevenLabs.apiKey,
          ELEVENLABS_AGENT_ID: elevenLabs.agentId,
          ELEVENLABS_BASE_URL: elevenLabs.url,
          // Off here (test/browser/generations.test.ts has it on): the panel says so.
          IMAGE_GENERATION: 'false',
        },
        appConnect: [elevenLabs.conversation!.url],
      }),
      launchChromium([
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        `--use-file-for-fake-video-capture=${camera}`,
        '--autoplay-policy=no-user-gesture-required',
      ]),
    ]);
    if (started.status === 'fulfilled') server = started.value;
    if (launched.status === 'fulfilled') browser = launched.value;
    if (started.status === 'rejected') throw started.reason;
    if (launched.status === 'rejected') throw launched.reason;
    context = await browser.newContext({ viewport: { width: 1200, height: 1000 } });
    page = await context.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (err) => problems.push(String(err)));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await elevenLabs?.close();
    await upstream?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test('GET / serves the app with a strict CSP and no ElevenLabs key; its files come from this origin', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|blob: 'self'|script-src[^;]*blob:/);
    expect(csp).toContain(new URL(server.dev.emulators.s3Endpoint).origin);
    const html = await res.text();
    expect(html).not.toContain(elevenLabs.apiKey);
    for (const path of [
      '/app.js',
      '/app.css',
      '/worklets/rawAudioProcessor.js',
      '/worklets/audioConcatProcessor.js',
    ]) {
      const file = await fetch(`${server.url}${path}`);
      expect([path, file.status]).toEqual([path, 200]);
      expect(file.headers.get('content-security-policy')).toBe(csp);
      expect(await file.text()).not.toContain(elevenLabs.apiKey);
    }
  });

  test('opening the page creates a session; starting the conversation asks for the microphone and connects through the signed URL', async () => {
    await page.goto(`${server.url}/`);
    await page.locator('[data-session="ready"]').waitFor();
    const sessionId = (await page.locator('[data-session="ready"]').textContent())!.replace('Session ', '');
    expect(sessionId).toMatch(/^s_/);
    await page.getByTestId('generation-off').waitFor();
    expect(await page.getByRole('button', { name: 'Generate' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Start conversation' }).click();
    await page.locator('[role="status"][data-status="connected"]').waitFor();
    // The greeting the agent speaks first, in the transcript.
    await page.locator('.transcript .line.agent', { hasText: 'Show me something' }).waitFor();
    const conv = elevenLabs.conversation!.conversations[0]!;
    expect(conv.initiation?.custom_llm_extra_body).toEqual({ session_id: sessionId });
    expect(conv.initiation?.dynamic_variables).toEqual({ session_id: sessionId });
    // The fake microphone's audio reaches the agent, and the SDK answers the agent's ping.
    await eventually(
      async () => conv.audioBytes,
      (n) => n > 1000,
      15_000,
    );
    await eventually(
      async () => conv.pongs,
      (n) => n > 0,
      5000,
    );
    await shot('connected');
  });

  test('a photo from the file picker: ready, and the model sees it when asked', async () => {
    const photo = await cameraPhoto(1600, 1200);
    await page.setInputFiles('#file-input', { name: 'photo.jpg', mimeType: 'image/jpeg', buffer: photo });
    const thumb = page.locator('.thumb', { hasText: 'photo.jpg' });
    await thumb.and(page.locator('[data-state="ready"]')).waitFor();
    expect(await thumb.locator('.state').textContent()).toBe('Ready · 1238 × 928');
    const { sizes, body } = await ask('What is in the photo?');
    expect(sizes).toContain('1238x928');
    // The turn arrived as ElevenLabs sends it: the system tools rode along to the provider.
    expect(JSON.stringify(body)).toContain('end_call');
    const turn = elevenLabs.conversation!.turns.at(-1)!;
    expect(turn.request).toMatchObject({ stream: true, max_tokens: -1 });
    expect(turn.status).toBe(200);
    await shot('photo-answered');
  });

  test('an image pasted from the clipboard (a real paste event) is uploaded and seen', async () => {
    await dispatchImage(page, 'paste', 'body', 'pasted.png', await solidPng(300, 200, '#e4572e'));
    await page.locator('.thumb[data-state="ready"]', { hasText: 'pasted.png' }).waitFor();
    const { sizes } = await ask('What colour is the pasted image?');
    expect(sizes).toContain('300x200');
  });

  test('a camera snapshot (rear camera asked, the fake device answers) is uploaded and seen', async () => {
    await page.getByRole('button', { name: 'Start camera' }).click();
    // A function, not a string: the page's CSP forbids eval, which a string predicate needs.
    const preview = page.locator('video.preview');
    await eventually(
      () => preview.evaluate((v: unknown) => (v as { videoWidth: number }).videoWidth),
      (w) => w > 0,
      10_000,
    );
    await page.getByRole('button', { name: 'Snap' }).click();
    await page.locator('.thumb[data-state="ready"]', { hasText: 'camera snapshot' }).waitFor();
    const { sizes } = await ask('What does the camera show?');
    expect(sizes).toContain(`${FAKE_CAMERA_SIZE.width}x${FAKE_CAMERA_SIZE.height}`);
    await shot('camera');
  });

  test('live camera mode sends a frame to the camera slot once, then nothing while the picture stays still', async () => {
    const posts = () => upstreamPosts(page);
    await page.getByLabel(/^Live/).check();
    await page.locator('.thumb[data-slot="camera"][data-state="ready"]').waitFor();
    await eventually(
      () => page.getByTestId('live-frames').textContent(),
      (t) => t === 'Live frames sent: 1',
      10_000,
    );
    const before = await posts();
    // Two more looks (every 3 s) at the same still picture: no upload.
    await page.waitForTimeout(6500);
    expect(await page.getByTestId('live-frames').textContent()).toBe('Live frames sent: 1');
    expect(await posts()).toBe(before);
    await page.getByLabel(/^Live/).uncheck();
    await page.getByRole('button', { name: 'Stop camera' }).click();
  });

  test('a drawing goes to the canvas slot after the stroke ends and is seen', async () => {
    await page.locator('canvas.drawing').scrollIntoViewIfNeeded();
    const canvas = await page.locator('canvas.drawing').boundingBox();
    if (!canvas) throw new Error('the canvas is not visible');
    await page.getByRole('button', { name: 'Pen Red' }).click();
    await page.mouse.move(canvas.x + 30, canvas.y + 30);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(canvas.x + 30 + i * 25, canvas.y + 30 + i * 15);
    await page.mouse.up();
    const drawing = page.locator('.thumb[data-slot="canvas"][data-state="ready"]');
    await drawing.waitFor();
    const { sizes } = await ask('What did I draw?');
    expect(sizes).toContain('480x320');
    // The session panel shows the turns' tokens as the chat function counted them.
    await page
      .getByTestId('tokens')
      .filter({ hasText: /^[1-9]\d* in · [1-9]\d* out$/ })
      .waitFor();
    await shot('drawing');
  });

  test('a text file named .jpg is refused, and its thumbnail shows the server reason', async () => {
    await page.setInputFiles('#file-input', {
      name: 'notes.jpg',
      mimeType: 'image/jpeg',
      buffer: Buffer.from('Shopping list:\n- milk\n- bread\n'),
    });
    const thumb = page.locator('.thumb[data-state="refused"]', { hasText: 'notes.jpg' });
    await thumb.waitFor();
    const text = await thumb.locator('.state').textContent();
    expect(text).toContain(NOT_AN_IMAGE);
    expect(text).toContain('(not_an_image)');
    await shot('refused');
  });

  test('a dropped image is added; removing a thumbnail removes the image, and the next question no longer carries it', async () => {
    await dispatchImage(page, 'drop', '.dropzone', 'dropped.png', await solidPng(200, 150, '#2e86e4'));
    await page.locator('.thumb[data-state="ready"]', { hasText: 'dropped.png' }).waitFor();
    expect((await ask('And the dropped one?')).sizes).toContain('200x150');

    await page.getByRole('button', { name: 'Remove photo.jpg' }).click();
    await page.locator('.thumb', { hasText: 'photo.jpg' }).waitFor({ state: 'detached' });
    const { sizes } = await ask('Is the photo still there?');
    expect(sizes).not.toContain('1238x928');
    expect(sizes).toContain('200x150');
  });

  test('axe-core finds no serious or critical violation; the page ran clean under its CSP', async () => {
    const violations = await axeViolations(page);
    expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    expect(problems).toEqual([]);
  });

  test('stopping the conversation closes the socket', async () => {
    await page.getByRole('button', { name: 'Stop conversation' }).click();
    await page.locator('[role="status"][data-status="disconnected"]').waitFor();
    await eventually(
      async () => elevenLabs.conversation!.conversations[0]!.closed,
      (c) => c,
      5000,
    );
  });

  test('at 375 px wide (a phone) nothing overflows sideways', async () => {
    const phone = await context.newPage();
    try {
      await phone.setViewportSize({ width: 375, height: 812 });
      await phone.goto(`${server.url}/`);
      await phone.locator('[data-session="ready"]').waitFor();
      const widths = await pageWidths(phone);
      expect(widths.scroll).toBeLessThanOrEqual(widths.client);
      expect(widths.client).toBe(375);
      await shot('phone', phone);
    } finally {
      await phone.close();
    }
  });

  test('a refused microphone shows the message, and no conversation starts', async () => {
    // --use-fake-ui-for-media-stream grants every request whatever the permission says, so this
    // one runs in a browser without it: headless Chromium then refuses, as a person can.
    const strict = await launchChromium(['--use-fake-device-for-media-stream']);
    const denied = await strict.newPage();
    try {
      const before = elevenLabs.conversation!.conversations.length;
      await denied.goto(`${server.url}/`);
      await denied.locator('[data-session="ready"]').waitFor();
      await denied.getByRole('button', { name: 'Start conversation' }).click();
      const alert = denied.getByRole('alert');
      await alert.waitFor();
      expect(await alert.textContent()).toMatch(/^Access to the microphone was refused\./);
      expect(elevenLabs.conversation!.conversations.length).toBe(before);
      await shot('microphone-refused', denied);
    } finally {
      await strict.close();
    }
  });
});

function solidPng(width: number, height: number, background: string): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background } })
    .png()
    .toBuffer();
}

/**
 * A real `paste` (ClipboardEvent) or `drop` (DragEvent) carrying one PNG file, dispatched on
 * `target` as the browser does. Page code as a string: this file is checked without the DOM library.
 */
async function dispatchImage(
  page: Page,
  kind: 'paste' | 'drop',
  target: string,
  name: string,
  png: Buffer,
): Promise<void> {
  const event =
    kind === 'paste'
      ? "new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true })"
      : "new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true })";
  await page.evaluate(`(() => {
    const bytes = Uint8Array.from(atob(${JSON.stringify(png.toString('base64'))}), (c) => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], ${JSON.stringify(name)}, { type: 'image/png' }));
    document.querySelector(${JSON.stringify(target)}).dispatchEvent(${event});
  })()`);
}

/** How many XMLHttpRequests the page has made so far (uploads to the bucket are its only ones). */
async function upstreamPosts(page: Page): Promise<number> {
  return (await page.evaluate(
    "performance.getEntriesByType('resource').filter((e) => e.initiatorType === 'xmlhttprequest').length",
  )) as number;
}
