// A development image provider: draws the prompt as a real PNG locally with sharp (a card in a
// colour derived from the prompt, the prompt written on it), and edits by tinting the source
// image with that colour, so `make dev` shows the whole generation flow with no provider key.
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { UpstreamError } from '../../errors';
import { type ImageProviderConfig, isImageProviderConfigured } from '../provider-config';
import type { ImageCall, ImageProvider, ProviderImage } from '../types';

/** The colour of a prompt: the same prompt always gets the same colour. Pure. */
export function echoColour(prompt: string): { r: number; g: number; b: number; hex: string } {
  const hue = createHash('sha256').update(prompt).digest().readUInt16BE(0) % 360;
  // HSL with fixed saturation 55% and lightness 45%: readable white text on every hue.
  const s = 0.55;
  const l = 0.45;
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const x = c * (1 - Math.abs(((hue / 60) % 2) - 1));
  const m = l - c / 2;
  const [r1, g1, b1] =
    hue < 60
      ? [c, x, 0]
      : hue < 120
        ? [x, c, 0]
        : hue < 180
          ? [0, c, x]
          : hue < 240
            ? [0, x, c]
            : hue < 300
              ? [x, 0, c]
              : [c, 0, x];
  const to255 = (v: number) => Math.round((v + m) * 255);
  const [r, g, b] = [to255(r1), to255(g1), to255(b1)];
  const hex = `#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
  return { r, g, b, hex };
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The prompt cut into lines of at most `width` characters, at most `max` lines. */
function wrap(text: string, width: number, max: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const next = line ? `${line} ${word}` : word;
    if (next.length > width && line) {
      lines.push(line);
      line = word.slice(0, width);
    } else line = next.slice(0, width);
    if (lines.length === max) break;
  }
  if (line && lines.length < max) lines.push(line);
  return lines;
}

/** The SVG card the echo provider renders for a prompt. Pure, so tests can read it. */
export function echoSvg(prompt: string, width: number, height: number): string {
  const { hex } = echoColour(prompt);
  const fontSize = Math.max(14, Math.round(width / 24));
  const lines = wrap(
    prompt,
    Math.floor((width * 1.6) / fontSize),
    Math.floor((height * 0.7) / (fontSize * 1.3)),
  );
  const top = height / 2 - ((lines.length - 1) * fontSize * 1.3) / 2;
  const text = lines
    .map(
      (l, i) =>
        `<text x="${width / 2}" y="${Math.round(top + i * fontSize * 1.3)}" font-size="${fontSize}" text-anchor="middle" fill="#ffffff" font-family="sans-serif">${escapeXml(l)}</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="${hex}"/><circle cx="${width * 0.85}" cy="${height * 0.18}" r="${Math.round(Math.min(width, height) * 0.08)}" fill="#ffffff" fill-opacity="0.35"/>${text}</svg>`;
}

function sizeOf(size: string): { width: number; height: number } {
  const m = /^(\d{2,4})x(\d{2,4})$/.exec(size);
  if (!m)
    throw new UpstreamError(`echo: catalog size "${size}" is not WIDTHxHEIGHT`, {
      status: 500,
      errorClass: 'local_internal_error',
      code: 'internal_error',
    });
  return { width: Number(m[1]), height: Number(m[2]) };
}

export function createEchoImageProvider(cfg: ImageProviderConfig): ImageProvider {
  return {
    name: cfg.name,
    kind: 'echo',
    configured: isImageProviderConfigured(cfg),
    async generate(call: ImageCall): Promise<ProviderImage> {
      const { entry, request } = call;
      const { width, height } = sizeOf(entry.sizes[request.aspect]);
      const { r, g, b } = echoColour(request.prompt);
      const png = request.source
        ? // An edit keeps the picture and tints it with the prompt's colour: visibly "changed".
          await sharp(request.source.bytes).rotate().tint({ r, g, b }).png().toBuffer()
        : await sharp(Buffer.from(echoSvg(request.prompt, width, height)))
            .png()
            .toBuffer();
      return { bytes: new Uint8Array(png), mimeType: 'image/png' };
    },
  };
}
