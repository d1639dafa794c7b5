// Where the functions get their ImageGenerator (shared/imagegen/types.ts). The providers, the
// catalog and the runner are built in a parallel change (shared/imagegen/providers, catalog.ts,
// runner.ts); until it lands, this is the one seam to connect it: a generator with no usable
// model, so asking for an image is refused with 503 image_generation_unavailable, honestly.
import type { Env } from '../../shared/config';
import type { ImageGenerator } from '../../shared/imagegen/types';
import type { Logger } from '../../shared/observability/log';

export const noImageModels: ImageGenerator = {
  candidates: async () => [],
  generate: async () => {
    throw new Error('no image model is configured');
  },
};

export async function loadImageGenerator(_env: Env, log: Logger): Promise<ImageGenerator> {
  log.warn(
    'image generation has no providers in this build; every request answers image_generation_unavailable',
  );
  return noImageModels;
}
