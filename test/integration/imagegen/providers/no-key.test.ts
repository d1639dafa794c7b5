// With no provider key at all (`make dev`), the generator built from the environment draws with
// the echo provider for every quality, edits too, at no cost; /health lists every entry.
import sharp from 'sharp';
import { ConfigError } from '../../../../shared/errors';
import { loadImageGeneratorSettings, loadImageRunSettings } from '../../../../shared/imagegen/config';
import { checkStageImageConfig, composeImageGenerator } from '../../../../shared/imagegen/setup';

test('every quality has the echo entry as its only candidate, and it draws a real PNG for free', async () => {
  const { generator } = composeImageGenerator(loadImageGeneratorSettings({}));
  for (const quality of ['low', 'medium', 'high'] as const) {
    const entries = await generator.candidates({ quality });
    expect(entries.map((e) => e.id)).toEqual([`echo:echo-image:${quality}`]);
    const result = await generator.generate(
      { prompt: 'a sunset over Paris', quality, aspect: 'portrait' },
      entries,
      new AbortController().signal,
    );
    const meta = await sharp(result.image.bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 512, 768]);
    expect([result.costUsd, result.fallbackUsed, result.attempts.length]).toEqual([0, false, 1]);
  }
});

test('an edit goes to echo too (it edits), and returns the tinted source', async () => {
  const { generator } = composeImageGenerator(loadImageGeneratorSettings({}));
  const source = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#777777' } })
    .png()
    .toBuffer();
  const request = {
    prompt: 'make it redder',
    quality: 'medium' as const,
    aspect: 'square' as const,
    source: { bytes: source, mimeType: 'image/png' },
  };
  const entries = await generator.candidates(request);
  expect(entries.map((e) => e.id)).toEqual(['echo:echo-image:medium']);
  const result = await generator.generate(request, entries, new AbortController().signal);
  expect((await sharp(result.image.bytes).metadata()).width).toBe(64);
});

test('a key makes the real provider first, echo stays last; health shows keys and entries', async () => {
  const { generator } = composeImageGenerator(
    loadImageGeneratorSettings({ OPENAI_API_KEY: 'sk-x', TOGETHER_API_KEY: 't' }),
  );
  expect((await generator.candidates({ quality: 'low' })).map((e) => e.id)).toEqual([
    'openai:gpt-image-1-mini:low',
    'together:black-forest-labs/FLUX.1-schnell:low',
    'echo:echo-image:low',
  ]);
  const health = await generator.health();
  expect(health.find((h) => h.id === 'openai:gpt-image-1-mini:low')).toMatchObject({
    keyConfigured: true,
    enabled: true,
  });
  expect(health.find((h) => h.id === 'replicate:black-forest-labs/flux-schnell:low')).toMatchObject({
    keyConfigured: false,
  });
  expect(health.find((h) => h.id === 'openai:dall-e-3:medium')).toMatchObject({ enabled: false });
});

test('run settings are validated with messages naming the variable', () => {
  expect(loadImageRunSettings({ IMAGE_ATTEMPT_TIMEOUT_MS: '30000' }).attemptTimeoutMs).toBe(30_000);
  expect(() => loadImageRunSettings({ IMAGE_ATTEMPT_TIMEOUT_MS: 'soon' })).toThrow(ConfigError);
  expect(() => loadImageRunSettings({ IMAGE_RUN_BUDGET_MS: '5' })).toThrow(
    /^IMAGE_RUN_BUDGET_MS must be at least 1000 \(got "5"\)/,
  );
});

test('the stage file check names the file and the field', () => {
  expect(() =>
    checkStageImageConfig('infra/stages/dev.json', {
      imageProviders: { sdnext: { baseURL: 'http://127.0.0.1:7860/v1' } },
      imageCatalog: { 'openai:dall-e-3:medium': { enabled: true } },
    }),
  ).not.toThrow();
  expect(() =>
    checkStageImageConfig('infra/stages/dev.json', { imageCatalog: { 'x:y:low': { provider: 'sdnext' } } }),
  ).toThrow(/^infra\/stages\/dev.json: imageCatalog entry "x:y:low" \(a new entry\) is invalid/);
  expect(() => checkStageImageConfig('infra/stages/dev.json', { imageProviders: { openai: {} } })).toThrow(
    /^infra\/stages\/dev.json: IMAGE_PROVIDERS is invalid at openai.baseURL/,
  );
});
