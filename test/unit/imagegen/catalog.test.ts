// The image catalog: the built-in list's invariants, IMAGE_CATALOG overrides and their
// validation messages (naming the variable), price by aspect, and the pure choice of candidates.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../shared/errors';
import {
  applyCatalogOverride,
  DEFAULT_IMAGE_CATALOG,
  loadImageCatalog,
  priceOf,
  selectCandidates,
} from '../../../shared/imagegen/catalog';
import { loadImageProviderConfigs } from '../../../shared/imagegen/provider-config';
import type { CatalogEntry } from '../../../shared/imagegen/types';

const known = new Set(['openai', 'google', 'together', 'replicate', 'echo']);

describe('the built-in catalog', () => {
  test('ids are unique, every entry says where its price comes from, priceUsd is the highest of its aspect prices', () => {
    const ids = DEFAULT_IMAGE_CATALOG.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const e of DEFAULT_IMAGE_CATALOG) {
      expect(e.priceSource.length).toBeGreaterThan(10);
      for (const p of Object.values(e.priceByAspect ?? {})) expect(p).toBeLessThanOrEqual(e.priceUsd);
      expect(Object.keys(e.sizes).sort()).toEqual(['landscape', 'portrait', 'square']);
    }
  });

  test('every quality has a real provider and the echo fallback', () => {
    for (const q of ['low', 'medium', 'high'] as const) {
      const of = DEFAULT_IMAGE_CATALOG.filter((e) => e.quality === q && e.enabled);
      expect(of.some((e) => e.provider !== 'echo')).toBe(true);
      expect(of.some((e) => e.provider === 'echo' && e.priceUsd === 0)).toBe(true);
    }
  });

  test('models their provider shut down are listed disabled, with a note saying so', () => {
    for (const id of ['openai:dall-e-3:medium', 'openai:gpt-image-1:medium']) {
      const e = DEFAULT_IMAGE_CATALOG.find((x) => x.id === id)!;
      expect(e.enabled).toBe(false);
      expect(e.note).toMatch(/retired|shut down/i);
    }
  });

  test('priceOf: the aspect price where one is given, else priceUsd', () => {
    const mini = DEFAULT_IMAGE_CATALOG.find((e) => e.id === 'openai:gpt-image-1-mini:low')!;
    expect([priceOf(mini, 'square'), priceOf(mini, 'landscape'), priceOf(mini, 'portrait')]).toEqual([
      0.005, 0.006, 0.006,
    ]);
  });
});

describe('IMAGE_CATALOG overrides', () => {
  test('patch a built-in entry, remove one, add a new one with defaults', () => {
    const out = applyCatalogOverride(
      DEFAULT_IMAGE_CATALOG,
      {
        'openai:dall-e-3:medium': { enabled: true, priority: 5 },
        'together:black-forest-labs/FLUX.1-dev:medium': null,
        'replicate:someone/sdxl:abc:low': {
          provider: 'replicate',
          model: 'someone/sdxl:abc',
          quality: 'low',
          sizes: { square: '1:1', landscape: '3:2', portrait: '2:3' },
          priceUsd: 0.002,
          priceSource: 'https://replicate.com/someone/sdxl 2026-12-01',
        },
      },
      known,
    );
    const byId = new Map(out.map((e) => [e.id, e]));
    expect(byId.get('openai:dall-e-3:medium')).toMatchObject({
      enabled: true,
      priority: 5,
      model: 'dall-e-3',
    });
    expect(byId.has('together:black-forest-labs/FLUX.1-dev:medium')).toBe(false);
    expect(byId.get('replicate:someone/sdxl:abc:low')).toMatchObject({
      priority: 100,
      edits: false,
      enabled: true,
    });
    expect(out).toHaveLength(DEFAULT_IMAGE_CATALOG.length);
  });

  test.each([
    ['not an object', '[1,2]', /^IMAGE_CATALOG must be an object of catalog entry id/],
    ['not JSON', '{"a":', /^IMAGE_CATALOG is not valid JSON/],
    [
      'a wrong field type in a patch',
      '{"openai:gpt-image-1-mini:low":{"priceUsd":"cheap"}}',
      /^IMAGE_CATALOG entry "openai:gpt-image-1-mini:low" is invalid at priceUsd: /,
    ],
    [
      'an unknown field',
      '{"openai:gpt-image-1-mini:low":{"cost":1}}',
      /^IMAGE_CATALOG entry "openai:gpt-image-1-mini:low" is invalid at .*cost/,
    ],
    ['a negative price', '{"openai:gpt-image-1-mini:low":{"priceUsd":-1}}', /invalid at priceUsd/],
    [
      'a new entry missing fields',
      '{"x:y:low":{"provider":"openai","model":"y"}}',
      /^IMAGE_CATALOG entry "x:y:low" \(a new entry\) is invalid at quality/,
    ],
    [
      'an unknown provider',
      '{"nope:m:low":{"provider":"nope","model":"m","quality":"low","sizes":{"square":"a","landscape":"b","portrait":"c"},"priceUsd":1,"priceSource":"s"}}',
      /names unknown image provider "nope"/,
    ],
    ['removing an entry that does not exist', '{"nope":null}', /entry "nope" cannot be removed/],
    [
      'an aspect price above priceUsd',
      '{"openai:gpt-image-1-mini:low":{"priceByAspect":{"square":1}}}',
      /priceUsd must be the highest/,
    ],
  ])('%s is a ConfigError naming IMAGE_CATALOG', (_name, raw, message) => {
    let err: unknown;
    try {
      loadImageCatalog(raw, known);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
  });

  test('a path to a JSON file (as a stage file ships it) is read; a missing file says so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'imagecat-'));
    const path = join(dir, 'catalog.json');
    writeFileSync(path, JSON.stringify({ 'echo:echo-image:low': { enabled: false } }));
    const out = loadImageCatalog(path, known);
    expect(out.find((e) => e.id === 'echo:echo-image:low')!.enabled).toBe(false);
    expect(() => loadImageCatalog(join(dir, 'missing.json'), known)).toThrow(
      /^IMAGE_CATALOG is neither JSON nor a readable file/,
    );
  });

  test('unset is the built-in list; providers named in IMAGE_PROVIDERS are known to it', () => {
    expect(loadImageCatalog(undefined, known)).toEqual(DEFAULT_IMAGE_CATALOG);
    const configs = loadImageProviderConfigs({
      IMAGE_PROVIDERS: '{"local":{"baseURL":"http://127.0.0.1:9000/v1"}}',
    });
    expect(() =>
      loadImageCatalog(
        '{"local:sd:low":{"provider":"local","model":"sd","quality":"low","sizes":{"square":"512x512","landscape":"768x512","portrait":"512x768"},"priceUsd":0,"priceSource":"self-hosted"}}',
        new Set(configs.keys()),
      ),
    ).not.toThrow();
  });
});

describe('IMAGE_PROVIDERS', () => {
  test.each([
    ['not JSON', '{', /^IMAGE_PROVIDERS is not valid JSON/],
    ['no base URL', '{"x":{}}', /^IMAGE_PROVIDERS is invalid at x.baseURL/],
    [
      'a built-in name',
      '{"openai":{"baseURL":"http://127.0.0.1/v1"}}',
      /"openai" is a built-in image provider name/,
    ],
  ])('%s is a ConfigError naming the variable', (_n, raw, message) => {
    expect(() => loadImageProviderConfigs({ IMAGE_PROVIDERS: raw })).toThrow(message);
  });

  test('echo is off in a deployed stack unless ALLOW_ECHO=true', () => {
    expect(loadImageProviderConfigs({}).get('echo')!.disabled).toBe(false);
    expect(loadImageProviderConfigs({ REQUIRE_CHAT_API_KEY: 'true' }).get('echo')!.disabled).toBe(true);
    expect(
      loadImageProviderConfigs({ REQUIRE_CHAT_API_KEY: 'true', ALLOW_ECHO: 'true' }).get('echo')!.disabled,
    ).toBe(false);
  });
});

describe('selectCandidates (pure)', () => {
  const e = (id: string, over: Partial<CatalogEntry> = {}): CatalogEntry => ({
    id,
    provider: id.split(':')[0]!,
    model: 'm',
    quality: 'medium',
    sizes: { square: 's', landscape: 'l', portrait: 'p' },
    priceUsd: 0.05,
    priceSource: 'test',
    priority: 10,
    edits: false,
    enabled: true,
    ...over,
  });
  const catalog = [
    e('a:dear', { priceUsd: 0.09 }),
    e('b:cheap', { priceUsd: 0.01 }),
    e('c:first', { priority: 1, priceUsd: 0.5 }),
    e('d:low', { quality: 'low' }),
    e('e:off', { enabled: false }),
    e('f:nokey'),
    e('g:open'),
    e('h:editor', { edits: true, priceUsd: 0.05, priceByAspect: { square: 0.001 } }),
  ];
  const availability = (x: CatalogEntry) => ({ configured: x.provider !== 'f', open: x.provider === 'g' });

  test('same quality, enabled, configured, not open; priority first, then price at the aspect, then id', () => {
    expect(selectCandidates(catalog, { quality: 'medium' }, availability).map((x) => x.id)).toEqual([
      'c:first',
      'h:editor',
      'b:cheap',
      'a:dear',
    ]);
    expect(
      selectCandidates(catalog, { quality: 'medium', aspect: 'landscape' }, availability).map((x) => x.id),
    ).toEqual(['c:first', 'b:cheap', 'h:editor', 'a:dear']);
  });

  test('with a source image, only entries that edit', () => {
    const source = { bytes: new Uint8Array([1]), mimeType: 'image/png' };
    expect(selectCandidates(catalog, { quality: 'medium', source }, availability).map((x) => x.id)).toEqual([
      'h:editor',
    ]);
  });
});
