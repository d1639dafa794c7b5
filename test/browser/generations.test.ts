// The reference app's generated images in Chromium, against the whole local product with
// IMAGE_GENERATION=true and a PNG-drawing generator (real PNGs, stored and presigned like a
// provider's): an estimate to confirm, the image with provider/model/cost, the fallback badge, a
// refusal's reason, and a generation the voice agent starts (a typed turn through the fake
// ElevenLabs conversation, the fake OpenAI model calling generate_image) appearing in the panel.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { type FakeElevenLabs, startFakeElevenLabs } from '../fakes/elevenlabs-server';
import { type FakeOpenAIServer, openaiReply, startOpenAIServer } from '../fakes/openai-server';
import { axeViolations, describeWithChromium, launchChromium, pageWidths } from '../helpers/chromium';
import { type RunningDevServer, startSameOriginDevServer } from '../helpers/dev-server';
import { catalogEntry, createPngGenerator, type PngGenerator } from '../helpers/png-generator';

const describeChromium = describeWithChromium('the reference app (generated images)');
const SCREENSHOTS = join(process.cwd(), '.build', 'screenshots');

describeChromium('generated images in the reference app', () => {
  let upstream: FakeOpenAIServer;
  let elevenLabs: FakeElevenLabs;
  let server: RunningDevServer;
  let browser: Browser;
  let page: Page;
  let generator: PngGenerator;
  const problems: string[] = [];
  /** Prompts marked "(slow)" wait for this before drawing, so the page can be seen while a job runs. */
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });

  const shot = (name: string) =>
    page
      .locator('section.generations')
      .screenshot({ path: join(SCREENSHOTS, `app-generations-${name}.png`) });
  const item = (prompt: string) =>
    page.locator('.gen', { has: page.locator('.prompt', { hasText: prompt }) });
  /** The image really loaded (decoded), which the page's CSP must allow from the bucket. */
  const loaded = (p: string) =>
    item(p)
      .locator('img')
      .evaluate((img: unknown) => (img as { complete: boolean; naturalWidth: number }).naturalWidth);

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    upstream = await startOpenAIServer();
    upstream.replyWith(['Okay.']);
    const png = createPngGenerator([
      catalogEntry({ id: 'cheap:flux-schnell:medium', priceUsd: 0.003 }),
      catalogEntry({ id: 'openai:gpt-image-1:high', quality: 'high', priceUsd: 0.167 }),
    ]);
    // As the runner reports an image drawn by a later entry than the one estimated.
    generator = {
      ...png,
      async generate(request, entries, signal) {
        if (request.prompt.includes('(slow)')) await gate;
        const result = await png.generate(request, entries, signal);
        return { ...result, fallbackUsed: request.prompt.includes('(backup)') };
      },
    };
    elevenLabs = await startFakeElevenLabs({ conversation: { llmUrl: () => `${server.url}/v1` } });
    const [started, launched] = await Promise.allSettled([
      startSameOriginDevServer({
        env: {
          OPENAI_API_KEY: 'sk-upstream',
          OPENAI_BASE_URL: `${upstream.url}/v1`,
          ELEVENLABS_API_KEY: elevenLabs.apiKey,
          ELEVENLABS_AGENT_ID: elevenLabs.agentId,
          ELEVENLABS_BASE_URL: elevenLabs.url,
          IMAGE_GENERATION: 'true',
          IMAGE_MODERATION: 'off',
          IMAGE_LIMIT_PER_USER_PER_HOUR: '100',
        },
        imageGeneration: { generator },
        appConnect: [elevenLabs.conversation!.url],
      }),
      launchChromium(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']),
    ]);
    if (started.status === 'fulfilled') server = started.value;
    if (launched.status === 'fulfilled') browser = launched.value;
    if (started.status === 'rejected') throw started.reason;
    if (launched.status === 'rejected') throw launched.reason;
    page = await (await browser.newContext({ viewport: { width: 1200, height: 1000 } })).newPage();
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (err) => problems.push(String(err)));
    await page.goto(`${server.url}/`);
    await page.locator('[data-session="ready"]').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await elevenLabs?.close();
    await upstream?.close();
  });

  test('asked in the form: the estimate waits for Confirm; confirmed, the image appears with provider, model and cost', async () => {
    await page.getByLabel('Describe an image to generate').fill('a castle at dusk');
    await page.getByLabel('Quality').selectOption('high');
    await page.getByRole('button', { name: 'Generate' }).click();
    const castle = item('a castle at dusk');
    await castle.and(page.locator('[data-status="awaiting_confirmation"]')).waitFor();
    expect(await castle.locator('.estimate').textContent()).toBe('Estimate $0.167 with openai gpt-image-1');
    expect(generator.calls).toHaveLength(0);
    await shot('estimate');

    await page.getByRole('button', { name: 'Confirm $0.167 for “a castle at dusk”' }).click();
    await castle.and(page.locator('[data-status="ready"]')).waitFor();
    await castle.locator('img[alt="a castle at dusk"]').waitFor();
    expect(await castle.locator('.made-by').textContent()).toBe('openai gpt-image-1 · $0.167');
    expect(await castle.locator('.badge').count()).toBe(0);
    expect(await loaded('a castle at dusk')).toBe(64);
    expect(generator.calls).toHaveLength(1);
    await shot('ready');
  });

  test('under the auto-approve amount it starts at once; an image from a fallback model carries the badge', async () => {
    await page.getByLabel('Describe an image to generate').fill('a lighthouse (backup)');
    await page.getByLabel('Quality').selectOption('medium');
    await page.getByRole('button', { name: 'Generate' }).click();
    const lighthouse = item('a lighthouse (backup)');
    await lighthouse.and(page.locator('[data-status="ready"]')).waitFor();
    await lighthouse.locator('img').waitFor();
    expect(await lighthouse.locator('.made-by').textContent()).toBe('cheap flux-schnell · $0.003fallback');
    expect(await lighthouse.locator('.badge').textContent()).toBe('fallback');
  });

  test('while the job runs the panel shows progress, then the image', async () => {
    await page.getByLabel('Describe an image to generate').fill('a slow boat (slow)');
    await page.getByRole('button', { name: 'Generate' }).click();
    const boat = item('a slow boat (slow)');
    await page.getByRole('progressbar', { name: 'Drawing… “a slow boat (slow)”' }).waitFor();
    expect(await boat.getAttribute('data-status')).toBe('running');
    await shot('running');
    release();
    await boat.and(page.locator('[data-status="ready"]')).waitFor();
    await boat.locator('img').waitFor();
    expect(await page.getByRole('progressbar').count()).toBe(0);
  });

  test('Cancel on an estimate cancels it: nothing is drawn', async () => {
    const before = generator.calls.length;
    await page.getByLabel('Describe an image to generate').fill('a dragon');
    await page.getByLabel('Quality').selectOption('high');
    await page.getByRole('button', { name: 'Generate' }).click();
    const dragon = item('a dragon');
    await dragon.and(page.locator('[data-status="awaiting_confirmation"]')).waitFor();
    await page.getByRole('button', { name: 'Cancel “a dragon”' }).click();
    await dragon.and(page.locator('[data-status="cancelled"]')).waitFor();
    expect(await dragon.textContent()).toBe('a dragonCancelled.');
    expect(generator.calls.length).toBe(before);
    await page.getByLabel('Quality').selectOption('medium');
  });

  test("a refused generation shows the provider's reason", async () => {
    generator.script.push('refuse');
    await page.getByLabel('Describe an image to generate').fill('something refused');
    await page.getByRole('button', { name: 'Generate' }).click();
    const refused = item('something refused');
    await refused.and(page.locator('[data-status="failed"]')).waitFor();
    const text = await refused.locator('.failed').textContent();
    expect(text).toMatch(/^Failed: .*\(refused\)$/);
    expect(text).toContain('content policy');
    await shot('failed');
  });

  test('one the voice agent starts (a typed turn, the model calls generate_image) shows up and is confirmed on screen', async () => {
    await page.getByRole('button', { name: 'Start conversation' }).click();
    await page.locator('[role="status"][data-status="connected"]').waitFor();
    upstream.requests.length = 0;
    upstream.enqueue(
      openaiReply({
        toolCalls: [
          { id: 'call_kite', name: 'generate_image', arguments: '{"prompt":"a red kite","quality":"high"}' },
        ],
      }),
      openaiReply({ text: ['About 17 cents; ', 'confirm on screen.'] }),
    );
    await page.getByLabel('Message').fill('Draw me a red kite, high quality.');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.locator('.transcript .line.agent', { hasText: 'confirm on screen.' }).waitFor();
    // The model was offered our tool and got the estimate back in the same turn.
    expect(upstream.requests).toHaveLength(2);
    expect(JSON.stringify(upstream.requests[0]!.body)).toContain('generate_image');
    const kite = item('a red kite');
    await kite.and(page.locator('[data-status="awaiting_confirmation"]')).waitFor();
    await shot('voice-estimate');
    await kite.getByRole('button', { name: /^Confirm \$0\.167/ }).click();
    await kite.and(page.locator('[data-status="ready"]')).waitFor();
    await kite.locator('img').waitFor();
    expect(await loaded('a red kite')).toBe(64);
    await page.getByRole('button', { name: 'Stop conversation' }).click();
  });

  test('axe-core finds no serious or critical violation; the images loaded under the CSP; at 375 px nothing overflows', async () => {
    const violations = await axeViolations(page);
    expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    expect(problems).toEqual([]);

    await page.setViewportSize({ width: 375, height: 812 });
    const widths = await pageWidths(page);
    expect(widths.client).toBe(375);
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
    await shot('phone');
  });
});
