// Reads and writes `data:<mime>;base64,<bytes>` URIs, the form images take inline in chat
// messages. The declared mime is reported, never trusted: normalizeImage sniffs the bytes.
import { ValidationError } from '../errors';
import { imageTooLarge } from './errors';

export interface ParsedDataUri {
  /** The declared media type, lower-cased; RFC 2397's default when none is given. */
  mime: string;
  bytes: Buffer;
}

const DEFAULT_MIME = 'text/plain';
const MIME_PATTERN = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/;
const BASE64_PATTERN = /^[A-Za-z0-9+/]*={0,2}$/;

function invalid(message: string, code = 'invalid_data_uri'): ValidationError {
  return new ValidationError(message, null, code);
}

/** Exact decoded size of a base64 payload, from its length alone. */
export function decodedLength(payload: string): number {
  const padding = payload.endsWith('==') ? 2 : payload.endsWith('=') ? 1 : 0;
  return Math.floor(((payload.length - padding) * 3) / 4);
}

/** What a data URI's header says, before its payload is looked at. */
export interface DataUriHeader {
  /** The declared media type, trimmed and lower-cased; '' when none is given. */
  mime: string;
  /** Whether the header ends in ";base64" (RFC 2397). */
  base64: boolean;
  /** The payload: everything after the header's comma, as sent (not decoded). */
  payload: string;
}

/**
 * The header of `data:[<mime>][;param]*[;base64],<payload>`, or undefined when `uri` is not a
 * data URI (no `data:` scheme, or no comma). The one reading of the form: parseDataUri below,
 * and the providers that pass a client's data URI on without decoding it, use it.
 */
export function readDataUriHeader(uri: string): DataUriHeader | undefined {
  if (!/^data:/i.test(uri)) return undefined;
  const comma = uri.indexOf(',');
  if (comma === -1) return undefined;
  const params = uri.slice('data:'.length, comma).split(';');
  return {
    mime: params[0]!.trim().toLowerCase(),
    base64: params.length >= 2 && params.at(-1)!.trim().toLowerCase() === 'base64',
    payload: uri.slice(comma + 1),
  };
}

/**
 * Splits a base64 data URI into its declared mime and its bytes. The size cap is checked
 * from the payload's length before anything is decoded, so an oversized URI costs no
 * allocation beyond the string the caller already holds.
 */
export function parseDataUri(uri: string, maxBytes: number): ParsedDataUri {
  if (!/^data:/i.test(uri)) throw invalid('Expected a data: URI (data:image/jpeg;base64,...).');
  const header = readDataUriHeader(uri);
  if (!header) throw invalid('The data URI has no comma separating its header from its data.');
  if (!header.base64) {
    throw invalid('Only base64 data URIs are accepted (data:image/jpeg;base64,...).', 'data_uri_not_base64');
  }
  const mime = header.mime || DEFAULT_MIME;
  if (!MIME_PATTERN.test(mime))
    throw invalid(`The data URI's media type "${header.mime}" is not a valid type/subtype.`);

  const { payload } = header;
  if (payload.length === 0) throw invalid('The data URI contains no data.');
  const size = decodedLength(payload);
  if (size > maxBytes) throw imageTooLarge(size, maxBytes);

  // Buffer.from silently skips characters that are not base64, so validate first: a
  // mangled payload must be an error, not a quietly different image.
  const padded = payload.endsWith('=');
  if (!BASE64_PATTERN.test(payload) || (padded && payload.length % 4 !== 0) || payload.length % 4 === 1) {
    throw invalid(
      'The data URI payload is not valid base64 (characters outside A-Z a-z 0-9 + / =, or a bad length).',
    );
  }
  return { mime, bytes: Buffer.from(payload, 'base64') };
}

/** `data:<mime>;base64,...` for bytes we produced ourselves. */
export function toDataUri(mime: string, bytes: Uint8Array): string {
  return `data:${mime};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
}
