// Image providers that speak OpenAI's Images API through the official `openai` SDK: OpenAI itself
// (the gpt-image family, DALL·E 3; generate and edit), Google (Gemini's OpenAI-compatible
// endpoint), Together AI (FLUX) and any compatible server. The request for each is a pure
// function of the catalog entry and the user's request (toImagesRequest).
import type OpenAI from 'openai';
import type { ImageEditParamsNonStreaming, ImageGenerateParamsNonStreaming } from 'openai/resources/images';
import { UpstreamError } from '../../errors';
import { type SdkProviderOptions, sdkClientOptions } from '../../providers/sdk-logger';
import { LOCAL_INVALID_REQUEST, sendPhaseError } from '../../providers/upstream-error';
import { providerImageFromBase64 } from '../image-bytes';
import { type ImageProviderConfig, isImageProviderConfigured } from '../provider-config';
import type { CatalogEntry, ImageCall, ImageProvider, ImageRequest, ProviderImage } from '../types';
import { refusalOf } from './refusal';

/** How an OpenAI-style images endpoint wants its request. */
export type ImagesDialect = 'openai' | 'google' | 'together' | 'compatible';

/** Together's FLUX endpoint takes width and height, not size; the SDK passes unknown fields through. */
type TogetherGenerateParams = Omit<ImageGenerateParamsNonStreaming, 'size'> & {
  width: number;
  height: number;
};

export type ImagesCallPlan =
  | { kind: 'generate'; body: ImageGenerateParamsNonStreaming | TogetherGenerateParams }
  /** The source image goes in as the multipart `image` file, added at send time. */
  | { kind: 'edit'; body: Omit<ImageEditParamsNonStreaming, 'image'> };

const isDallE = (model: string) => /^dall-e/i.test(model);

/** The prompt with the asked style, for models that have no style parameter. */
function promptWithStyle(request: ImageRequest): string {
  return request.style ? `${request.prompt}\n\nStyle: ${request.style}` : request.prompt;
}

function widthHeight(size: string, provider: string): { width: number; height: number } {
  const m = /^(\d{2,5})x(\d{2,5})$/.exec(size);
  if (!m)
    throw new UpstreamError(`${provider}: catalog size "${size}" is not WIDTHxHEIGHT`, {
      status: 500,
      errorClass: 'local_internal_error',
      code: 'internal_error',
    });
  return { width: Number(m[1]), height: Number(m[2]) };
}

/**
 * The Images API call for an entry and a request. Pure. GPT Image models always answer in
 * base64 and refuse `response_format`; DALL·E 3 and the compatible servers are asked for
 * `b64_json`, so no image URL ever has to be fetched.
 */
export function toImagesRequest(
  entry: CatalogEntry,
  request: ImageRequest,
  dialect: ImagesDialect,
): ImagesCallPlan {
  const size = entry.sizes[request.aspect];
  if (request.source) {
    if (!entry.edits || dialect === 'google' || dialect === 'together')
      throw new UpstreamError(`${entry.id} cannot edit images`, {
        status: 400,
        errorClass: LOCAL_INVALID_REQUEST,
        code: 'image_edit_not_supported',
      });
    return {
      kind: 'edit',
      body: {
        model: entry.model,
        prompt: promptWithStyle(request),
        n: 1,
        size,
        ...(dialect === 'openai' ? { quality: entry.quality } : { response_format: 'b64_json' as const }),
      },
    };
  }
  if (dialect === 'together') {
    return {
      kind: 'generate',
      body: {
        model: entry.model,
        prompt: promptWithStyle(request),
        n: 1,
        ...widthHeight(size, entry.provider),
        response_format: 'b64_json',
      },
    };
  }
  if (dialect === 'openai' && isDallE(entry.model)) {
    const style = request.style === 'vivid' || request.style === 'natural' ? request.style : undefined;
    return {
      kind: 'generate',
      body: {
        model: entry.model,
        prompt: style ? request.prompt : promptWithStyle(request),
        n: 1,
        size,
        quality: entry.quality === 'high' ? 'hd' : 'standard',
        response_format: 'b64_json',
        ...(style ? { style } : {}),
      },
    };
  }
  if (dialect === 'openai') {
    return {
      kind: 'generate',
      body: { model: entry.model, prompt: promptWithStyle(request), n: 1, size, quality: entry.quality },
    };
  }
  return {
    kind: 'generate',
    body: { model: entry.model, prompt: promptWithStyle(request), n: 1, size, response_format: 'b64_json' },
  };
}

/** The image in an Images API answer, or why there is none. Pure. */
export function imageFromImagesResponse(
  response: { data?: Array<{ b64_json?: string | null; revised_prompt?: string | null }> | null },
  provider: string,
): ProviderImage | UpstreamError {
  const first = response.data?.[0];
  return providerImageFromBase64(first?.b64_json, provider, first?.revised_prompt ?? undefined);
}

const DIALECTS: Record<ImageProviderConfig['kind'], ImagesDialect | undefined> = {
  openai: 'openai',
  google: 'google',
  together: 'together',
  compatible: 'compatible',
  replicate: undefined,
  echo: undefined,
};

export function createOpenAIImagesProvider(
  cfg: ImageProviderConfig,
  opts: SdkProviderOptions,
): ImageProvider {
  const dialect = DIALECTS[cfg.kind];
  if (!dialect) throw new Error(`${cfg.name}: kind ${cfg.kind} does not speak the OpenAI Images API`);
  // Loaded on first use: a function that never draws never evaluates the SDK. Retries and
  // failover belong to the runner, so the SDK never retries on its own.
  let client: Promise<{ sdk: OpenAI; toFile: typeof import('openai').toFile }> | undefined;
  const getClient = () =>
    (client ??= import('openai').then(({ default: OpenAISdk, toFile }) => ({
      sdk: new OpenAISdk({
        apiKey: cfg.apiKey ?? 'not-needed',
        baseURL: cfg.baseURL ?? null,
        ...sdkClientOptions(cfg.name, opts),
      }),
      toFile,
    })));
  return {
    name: cfg.name,
    kind: cfg.kind,
    configured: isImageProviderConfigured(cfg),
    async generate(call: ImageCall): Promise<ProviderImage> {
      const { entry, request, signal } = call;
      let response: Awaited<ReturnType<OpenAI['images']['generate']>>;
      try {
        const plan = toImagesRequest(entry, request, dialect);
        const { sdk, toFile } = await getClient();
        if (plan.kind === 'edit') {
          const source = request.source!;
          const ext = source.mimeType.split('/')[1] ?? 'png';
          const image = await toFile(source.bytes, `source.${ext}`, { type: source.mimeType });
          response = await sdk.images.edit({ ...plan.body, image }, { signal });
        } else {
          response = await sdk.images.generate(plan.body as ImageGenerateParamsNonStreaming, { signal });
        }
      } catch (err) {
        const refused = signal.aborted ? undefined : refusalOf(err, cfg.name, entry.id);
        if (refused) throw refused;
        throw sendPhaseError(err, cfg.name, signal);
      }
      const image = imageFromImagesResponse(response, cfg.name);
      if (image instanceof UpstreamError) throw image;
      return image;
    },
  };
}
