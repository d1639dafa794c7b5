// Turns an untrusted upload into the one image a vision model gets: verified format, upright,
// stripped of all metadata, scaled to what providers use anyway, re-encoded, and hashed.
import { createHash } from 'node:crypto';
import sharp, { type Metadata, type OutputInfo, type SharpOptions } from 'sharp';
import { rejectionForDecodeFailure } from './decode-failure';
import { ImageRejectedError, imageTooLarge } from './errors';
import { fitWithinCaps } from './fit';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from './limits';
import {
  detectImageFormat,
  detectUnsupportedImageFormat,
  type ImageFormat,
  looksLikeSvgOrXml,
} from './sniff';

export { DEFAULT_IMAGE_LIMITS, type ImageLimits, type NormalizedImageFormat } from './limits';

/** Lossy quality for both encoders: text in screenshots stays legible, files stay ~100-300 KB. */
export const OUTPUT_QUALITY = 82;

/** What the vision model is shown, transparency flattened onto this (see normalizeImage). */
const JPEG_BACKGROUND = '#ffffff';

export interface NormalizedImage {
  bytes: Buffer;
  mime: 'image/jpeg' | 'image/webp';
  width: number;
  height: number;
  /** Hex SHA-256 of `bytes`: identical input and limits give identical output and hash. */
  sha256: string;
  sourceFormat: ImageFormat;
  /** Upright size of the source, after its EXIF orientation is applied. */
  sourceWidth: number;
  sourceHeight: number;
  sourceBytes: number;
}

const FORMATS_ACCEPTED = 'JPEG, PNG, WebP, GIF or AVIF';

/**
 * 'error' rejects truncated and corrupt pixel data. 'warning' (sharp's default) would also
 * refuse the many real camera JPEGs that carry harmless libjpeg warnings ("extraneous bytes
 * before marker"), which users cannot fix and would not understand.
 */
const FAIL_ON = 'error';

/** Refuses, with a precise reason, anything that is not a raster format we decode. */
function requireSupportedFormat(input: Buffer): ImageFormat {
  const format = detectImageFormat(input);
  if (format === 'heic') {
    // Prebuilt sharp (as deployed to Lambda) has no HEVC decoder, for patent reasons.
    throw new ImageRejectedError(
      'unsupported_image_format',
      `HEIC images are not supported. Send ${FORMATS_ACCEPTED} (on iPhone: Settings > Camera > Formats > Most Compatible).`,
    );
  }
  if (format) return format;
  if (input.length === 0) throw new ImageRejectedError('not_an_image', 'The file is empty.');
  if (looksLikeSvgOrXml(input)) {
    throw new ImageRejectedError(
      'svg_not_allowed',
      `SVG and other XML images are not accepted, because they can carry scripts and external references. Send ${FORMATS_ACCEPTED}.`,
    );
  }
  const other = detectUnsupportedImageFormat(input);
  if (other) {
    throw new ImageRejectedError(
      'unsupported_image_format',
      `${other.toUpperCase()} files are not supported. Send ${FORMATS_ACCEPTED}.`,
    );
  }
  throw new ImageRejectedError(
    'not_an_image',
    `The file is not an image this server recognises (its content, not its name, is checked). Send ${FORMATS_ACCEPTED}.`,
  );
}

/**
 * Validates and re-encodes one image. Order matters for safety: the byte cap and the magic
 * bytes are checked before sharp sees the data, and the pixel cap is checked from the header
 * (sharp's `limitInputPixels`) before any pixel is decoded, so a small file declaring an
 * enormous canvas costs nothing.
 *
 * Transparency: with JPEG output, transparent areas are flattened onto white, because canvas
 * drawings are dark strokes on a transparent background and a black fill would hide them.
 * With WebP output the alpha channel is kept.
 */
export async function normalizeImage(
  input: Buffer,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
): Promise<NormalizedImage> {
  if (input.length > limits.maxInputBytes) throw imageTooLarge(input.length, limits.maxInputBytes);
  const sourceFormat = requireSupportedFormat(input);

  const decodeOptions: SharpOptions = {
    limitInputPixels: limits.maxInputPixels,
    failOn: FAIL_ON,
    // Animated GIF/WebP: the first frame is the picture; the rest would multiply the cost.
    pages: 1,
    page: 0,
  };

  let metadata: Metadata;
  try {
    metadata = await sharp(input, decodeOptions).metadata();
  } catch (err) {
    throw rejectionForDecodeFailure(err, input, sourceFormat, limits.maxInputPixels);
  }
  if (metadata.width * metadata.height > limits.maxInputPixels) {
    // sharp already enforces this; the explicit check keeps it true whatever sharp's defaults become.
    throw rejectionForDecodeFailure(
      new Error('Input image exceeds pixel limit'),
      input,
      sourceFormat,
      limits.maxInputPixels,
    );
  }

  const source = { width: metadata.autoOrient.width, height: metadata.autoOrient.height };
  const target = fitWithinCaps(source, limits.maxLongEdge, limits.maxPixels);

  // One pipeline, so JPEG shrink-on-load decodes a 12 MP photo at a fraction of its size.
  // No keepMetadata/withMetadata call: sharp writes no EXIF (GPS included), XMP, IPTC or ICC,
  // after converting colour to sRGB.
  let pipeline = sharp(input, { ...decodeOptions, autoOrient: true })
    .resize(target.width, target.height, { fit: 'fill' })
    .toColourspace('srgb');
  if (limits.outputFormat === 'jpeg') {
    if (metadata.hasAlpha) pipeline = pipeline.flatten({ background: JPEG_BACKGROUND });
    pipeline = pipeline.jpeg({ quality: OUTPUT_QUALITY, chromaSubsampling: '4:2:0' });
  } else {
    pipeline = pipeline.webp({ quality: OUTPUT_QUALITY });
  }

  let output: { data: Buffer; info: OutputInfo };
  try {
    output = await pipeline.toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw rejectionForDecodeFailure(err, input, sourceFormat, limits.maxInputPixels);
  }

  return {
    bytes: output.data,
    mime: limits.outputFormat === 'jpeg' ? 'image/jpeg' : 'image/webp',
    width: output.info.width,
    height: output.info.height,
    sha256: createHash('sha256').update(output.data).digest('hex'),
    sourceFormat,
    sourceWidth: source.width,
    sourceHeight: source.height,
    sourceBytes: input.length,
  };
}
