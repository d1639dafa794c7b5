// OpenAI `image_url` parts -> Anthropic image blocks: data URIs inline as base64, web URLs by
// reference (Anthropic fetches them itself).
import type { Base64ImageSource, ImageBlockParam } from '@anthropic-ai/sdk/resources/messages';
import { ValidationError } from '../../errors';
import { readDataUriHeader } from '../../images/data-uri';
import type { ImageUrlPart } from '../../openai/schema';

type AnthropicMediaType = Base64ImageSource['media_type'];

const MEDIA_TYPES: Readonly<Record<string, AnthropicMediaType>> = {
  'image/jpeg': 'image/jpeg',
  // Not a registered type, but browsers and some SDKs write it.
  'image/jpg': 'image/jpeg',
  'image/png': 'image/png',
  'image/gif': 'image/gif',
  'image/webp': 'image/webp',
};

/** `param` names the part in the client request, for the error a client sees. */
export function toAnthropicImage(part: ImageUrlPart, param: string): ImageBlockParam {
  const url = part.image_url.url.trim();
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  if (!/^data:/i.test(url)) {
    throw new ValidationError(
      'An image URL must be https://, http:// or a data: URI.',
      param,
      'invalid_image_url',
    );
  }
  const header = readDataUriHeader(url);
  if (!header?.base64) {
    throw new ValidationError('An image data URI must be base64-encoded.', param, 'invalid_image_url');
  }
  const mediaType = MEDIA_TYPES[header.mime];
  if (!mediaType) {
    throw new ValidationError(
      `Image type "${header.mime}" is not supported; use JPEG, PNG, GIF or WEBP.`,
      param,
      'unsupported_image_type',
    );
  }
  return { type: 'image', source: { type: 'base64', media_type: mediaType, data: header.payload } };
}
