// The OpenAI Images API providers (OpenAI, Google's compatible endpoint, Together, a configured
// compatible server) through the official openai SDK against a loopback fake: the request each
// sends (path, auth, model, size, prompt, multipart for edits) and how each answer is read.

import { UpstreamError } from '../../../../shared/errors';
import { DEFAULT_IMAGE_CATALOG } from '../../../../shared/imagegen/catalog';
import { ImageRefusedError } from '../../../../shared/imagegen/generation-errors';
import { loadImageProviderConfigs } from '../../../../shared/imagegen/provider-config';
import { createImageProviders, type ImageProviders } from '../../../../shared/imagegen/providers/registry';
import type { CatalogEntry, ImageRequest, ProviderImage } from '../../../../shared/imagegen/types';
import {
  type ImageUpstream,
  imagesAnswer,
  openaiError,
  solidPng,
  startImageUpstream,
} from '../../../fakes/image-upstream';
import { rejectionOf } from '../../../helpers/rejection';

let fake: ImageUpstream;
let providers: ImageProviders;
let png: Buffer;

const entry = (id: string): CatalogEntry => {
  const e = DEFAULT_IMAGE_CATALOG.find((x) => x.id === id);
  if (!e) throw new Error(`no catalog entry ${id}`);
  return e;
};
const ask = (over: Partial<ImageRequest> = {}): ImageRequest => ({
  prompt: 'a sunset over Paris',
  quality: 'low',
  aspect: 'square',
  ...over,
});

function run(id: string, request: ImageRequest, provider = entry(id).provider): Promise<ProviderImage> {
  return providers
    .get(provider)!
    .generate({ entry: entry(id), request, signal: new AbortController().signal });
}

beforeAll(async () => {
  fake = await startImageUpstream();
  png = await solidPng(32, 32);
  providers = createImageProviders(
    loadImageProviderConfigs({
      OPENAI_API_KEY: 'sk-openai',
      OPENAI_BASE_URL: `${fake.url}/v1`,
      GEMINI_API_KEY: 'g-key',
      GEMINI_BASE_URL: `${fake.url}/v1beta/openai/`,
      TOGETHER_API_KEY: 't-key',
      TOGETHER_BASE_URL: `${fake.url}/together/v1`,
      IMAGE_PROVIDERS: JSON.stringify({ local: { baseURL: `${fake.url}/local/v1`, apiKeyEnv: 'LOCAL_KEY' } }),
      LOCAL_KEY: 'l-key',
    }),
    { timeoutMs: 5000 },
  );
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.requests.length = 0;
});

describe('OpenAI, gpt-image family', () => {
  test('generate: POST /v1/images/generations with model, size, quality and prompt; the base64 PNG comes back sniffed', async () => {
    fake.enqueue(imagesAnswer(png));
    const image = await run(
      'openai:gpt-image-1-mini:low',
      ask({ aspect: 'landscape', style: 'watercolour' }),
    );
    const req = fake.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1/images/generations');
    expect(req.headers.authorization).toBe('Bearer sk-openai');
    expect(req.json).toEqual({
      model: 'gpt-image-1-mini',
      prompt: 'a sunset over Paris\n\nStyle: watercolour',
      n: 1,
      size: '1536x1024',
      quality: 'low',
    });
    expect(Buffer.from(image.bytes).equals(png)).toBe(true);
    expect(image.mimeType).toBe('image/png');
  });

  test('edit: POST /v1/images/edits as multipart with the source image as the `image` file', async () => {
    fake.enqueue(imagesAnswer(png));
    const source = await solidPng(40, 30, '#ff0000');
    const image = await run(
      'openai:gpt-image-1-mini:medium',
      ask({
        quality: 'medium',
        prompt: 'make the sky redder',
        source: { bytes: source, mimeType: 'image/png' },
      }),
    );
    const req = fake.requests[0]!;
    expect(req.path).toBe('/v1/images/edits');
    expect(req.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(req.headers.authorization).toBe('Bearer sk-openai');
    const form = req.form!;
    expect(form.get('model')).toBe('gpt-image-1-mini');
    expect(form.get('prompt')).toBe('make the sky redder');
    expect(form.get('size')).toBe('1024x1024');
    expect(form.get('quality')).toBe('medium');
    expect(form.get('n')).toBe('1');
    const file = form.get('image') as File;
    expect(file.type).toBe('image/png');
    expect(Buffer.from(await file.arrayBuffer()).equals(source)).toBe(true);
    expect(Buffer.from(image.bytes).equals(png)).toBe(true);
  });

  test.each([
    [
      'moderation_blocked',
      'image_generation_user_error',
      'Your request was rejected as a result of our safety system.',
    ],
    [
      'content_policy_violation',
      'invalid_request_error',
      'This request has been blocked by our content filters.',
    ],
  ])('a 400 %s is an ImageRefusedError naming the provider and its reason', async (code, type, message) => {
    fake.enqueue(openaiError(400, message, { code, type }));
    const err = await rejectionOf(run('openai:gpt-image-1-mini:low', ask()));
    expect(err).toBeInstanceOf(ImageRefusedError);
    const refused = err as ImageRefusedError;
    expect(refused.providerCode).toBe(code);
    expect(refused.status).toBe(400);
    expect(refused.code).toBe('image_refused');
    expect(refused.message).toBe(`openai refused to make this image: ${message}`);
  });

  test('an ordinary 400 (a wrong size) is not a refusal', async () => {
    fake.enqueue(
      openaiError(400, "Invalid value: '999x999'. Supported values are: '1024x1024'", {
        code: 'invalid_value',
      }),
    );
    const err = await rejectionOf(run('openai:gpt-image-1-mini:low', ask()));
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).errorClass).toBe('http_4xx_request');
  });

  test('a 500 is a retryable upstream failure; a 429 carries its retry-after', async () => {
    fake.enqueue(openaiError(500, 'The server had an error', { type: 'server_error' }));
    const e500 = (await rejectionOf(run('openai:gpt-image-1-mini:low', ask()))) as UpstreamError;
    expect([e500.errorClass, e500.retryable, e500.upstreamStatus]).toEqual(['http_5xx', true, 500]);
    fake.enqueue(
      openaiError(429, 'Rate limit reached for images per minute', { headers: { 'retry-after': '3' } }),
    );
    const e429 = (await rejectionOf(run('openai:gpt-image-1-mini:low', ask()))) as UpstreamError;
    expect([e429.errorClass, e429.retryable, e429.retryAfterMs]).toEqual(['http_429', true, 3000]);
  });

  test.each([
    ['not base64', imagesAnswer('@@@not base64@@@'), /not valid base64/],
    [
      'base64 of text, not an image',
      imagesAnswer(Buffer.from('hello, I am not a picture')),
      /not a PNG, JPEG/,
    ],
    [
      'no image at all',
      { kind: 'json' as const, status: 200, body: { created: 1, data: [] } },
      /no base64 image/,
    ],
  ])('malformed image data (%s) is a clear malformed_image UpstreamError', async (_name, answer, message) => {
    fake.enqueue(answer);
    const err = (await rejectionOf(run('openai:gpt-image-1-mini:low', ask()))) as UpstreamError;
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.errorClass).toBe('malformed_image');
    expect(err.message).toMatch(message);
  });
});

describe('OpenAI, DALL·E 3 (for servers that still serve it)', () => {
  test('asks for b64_json, maps quality and style, and reads revised_prompt', async () => {
    fake.enqueue(imagesAnswer(png, { revisedPrompt: 'A warm sunset over the roofs of Paris.' }));
    const image = await run(
      'openai:dall-e-3:medium',
      ask({ quality: 'medium', aspect: 'portrait', style: 'vivid' }),
    );
    expect(fake.requests[0]!.json).toEqual({
      model: 'dall-e-3',
      prompt: 'a sunset over Paris',
      n: 1,
      size: '1024x1792',
      quality: 'standard',
      response_format: 'b64_json',
      style: 'vivid',
    });
    expect(image.revisedPrompt).toBe('A warm sunset over the roofs of Paris.');
  });
});

describe('Google, through the OpenAI-compatible endpoint', () => {
  test('POST {GEMINI_BASE_URL}images/generations with the Gemini key and b64_json', async () => {
    fake.enqueue(imagesAnswer(png));
    const image = await run('google:gemini-2.5-flash-image:medium', ask({ quality: 'medium' }));
    const req = fake.requests[0]!;
    expect(req.path).toBe('/v1beta/openai/images/generations');
    expect(req.headers.authorization).toBe('Bearer g-key');
    expect(req.json).toEqual({
      model: 'gemini-2.5-flash-image',
      prompt: 'a sunset over Paris',
      n: 1,
      size: '1024x1024',
      response_format: 'b64_json',
    });
    expect(image.mimeType).toBe('image/png');
  });

  test('an edit is refused locally (the endpoint has none), before anything is sent', async () => {
    const err = (await rejectionOf(
      run('google:gemini-2.5-flash-image:medium', ask({ source: { bytes: png, mimeType: 'image/png' } })),
    )) as UpstreamError;
    expect(err.errorClass).toBe('local_invalid_request');
    expect(fake.requests).toHaveLength(0);
  });
});

describe('Together AI, FLUX', () => {
  test('sends width and height (not size) and b64_json; an NSFW refusal is an ImageRefusedError', async () => {
    fake.enqueue(imagesAnswer(png));
    await run('together:black-forest-labs/FLUX.1-schnell:low', ask({ aspect: 'landscape' }));
    const req = fake.requests[0]!;
    expect(req.path).toBe('/together/v1/images/generations');
    expect(req.headers.authorization).toBe('Bearer t-key');
    expect(req.json).toEqual({
      model: 'black-forest-labs/FLUX.1-schnell',
      prompt: 'a sunset over Paris',
      n: 1,
      width: 1344,
      height: 768,
      response_format: 'b64_json',
    });
    fake.enqueue(openaiError(422, 'NSFW content detected in the prompt.'));
    const err = await rejectionOf(run('together:black-forest-labs/FLUX.1-schnell:low', ask()));
    expect(err).toBeInstanceOf(ImageRefusedError);
  });
});

describe('a compatible server named in IMAGE_PROVIDERS', () => {
  test('is reached at its base URL with the key from its apiKeyEnv', async () => {
    fake.enqueue(imagesAnswer(png));
    const local: CatalogEntry = {
      ...entry('together:black-forest-labs/FLUX.1-schnell:low'),
      id: 'local:sd:low',
      provider: 'local',
      model: 'sd-turbo',
    };
    const image = await providers
      .get('local')!
      .generate({ entry: local, request: ask(), signal: new AbortController().signal });
    const req = fake.requests[0]!;
    expect(req.path).toBe('/local/v1/images/generations');
    expect(req.headers.authorization).toBe('Bearer l-key');
    expect(req.json).toMatchObject({ model: 'sd-turbo', size: '1024x1024', response_format: 'b64_json' });
    expect(image.bytes.length).toBe(png.length);
  });
});

describe('refusal wording from compatible servers', () => {
  test.each([
    [
      "Google's Responsible AI wording",
      "The prompt could not be submitted. It violates Google's Responsible AI practices.",
    ],
    ['safety filters', 'Image generation blocked by safety filters.'],
  ])('a 400 with %s is a refusal', async (_name, message) => {
    fake.enqueue(openaiError(400, message));
    expect(
      await rejectionOf(run('google:gemini-2.5-flash-image:medium', ask({ quality: 'medium' }))),
    ).toBeInstanceOf(ImageRefusedError);
  });

  test('a 400 that only names the moderation parameter is not a refusal', async () => {
    fake.enqueue(
      openaiError(400, "Invalid value for 'moderation': expected 'low' or 'auto'.", {
        code: 'invalid_value',
      }),
    );
    expect(await rejectionOf(run('openai:gpt-image-1-mini:low', ask()))).not.toBeInstanceOf(
      ImageRefusedError,
    );
  });
});
