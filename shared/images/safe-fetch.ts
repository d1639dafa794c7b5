// Downloads an image from a user-supplied URL without letting that URL reach anything but the
// public internet (SSRF), and without letting it make us wait or buffer without bound.
// node:http(s) rather than fetch, because only they let us own the DNS answer we connect to.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { ApiError } from '../errors';
import { imageTooLarge } from './errors';
import { ImageFetchError, UnsafeUrlError } from './fetch-errors';
import { guardedLookup, type ResolveHost, resolveWithSystemDns } from './guarded-lookup';
import { isPublicAddress } from './ip-policy';
import { assertFetchableUrl, connectHost } from './url-policy';

export interface SafeFetchOptions {
  /** Most bytes accepted; larger bodies are cut off as soon as they cross it. */
  maxBytes: number;
  /** Budget for the whole download, every redirect and DNS lookup included. */
  timeoutMs: number;
  /** Plain http:// (local development only); https is required otherwise. */
  allowHttp?: boolean;
  maxRedirects?: number;
  /** Which resolved addresses may be dialled; tests widen it to a loopback test server. */
  addressPolicy?: (ip: string) => boolean;
  /** Name resolution, injectable so tests never depend on real DNS. */
  lookup?: ResolveHost;
}

export interface FetchedImage {
  bytes: Buffer;
  /** The URL the bytes came from, after redirects. */
  finalUrl: string;
  /** As the server declared it: informative only, the bytes are sniffed later. */
  contentType?: string;
}

export const DEFAULT_MAX_REDIRECTS = 3;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Sent on every hop; deliberately no Cookie, Authorization or Referer, ever. */
const REQUEST_HEADERS = {
  accept: 'image/avif,image/webp,image/png,image/jpeg,image/gif;q=0.9,*/*;q=0.1',
  // We never decompress, so a compressed body could only be a decompression bomb or garbage.
  'accept-encoding': 'identity',
  'user-agent': 'elevenlabs-vision-backend image fetcher',
} as const;

type HopResult =
  | { kind: 'redirect'; location: string }
  | { kind: 'image'; bytes: Buffer; contentType?: string };

interface HopContext {
  signal: AbortSignal;
  timeoutMs: number;
  maxBytes: number;
  lookup: ResolveHost;
  addressPolicy: (ip: string) => boolean;
}

function socketFailure(err: NodeJS.ErrnoException, url: URL): ImageFetchError {
  const host = url.host;
  const code = err.code ?? '';
  let reason: string;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') reason = `the host name ${url.hostname} does not resolve`;
  else if (code === 'ECONNREFUSED') reason = `${host} refused the connection`;
  else if (code === 'ECONNRESET' || code === 'EPIPE') reason = `${host} closed the connection`;
  else if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') reason = `${host} is unreachable`;
  else if (code.startsWith('ERR_TLS') || code.includes('CERT') || code.startsWith('UNABLE_TO'))
    reason = `the TLS certificate of ${host} could not be verified (${code})`;
  else reason = `the connection to ${host} failed${code ? ` (${code})` : ''}`;
  return new ImageFetchError('url_fetch_failed', `Could not download the image: ${reason}.`, err);
}

/** Collects the body, cutting the connection the moment it crosses `maxBytes`. */
function readBody(res: IncomingMessage, ctx: HopContext): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    res.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > ctx.maxBytes) {
        reject(imageTooLarge(undefined, ctx.maxBytes));
        res.destroy();
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks, received)));
    // Raw errors (a connection dropped mid-body arrives as ECONNRESET "aborted"): the
    // caller tells our own timeout abort apart from a real network failure.
    res.on('error', reject);
  });
}

/** One request: either the image body or where the server redirects to. */
function requestOnce(url: URL, ctx: HopContext): Promise<HopResult> {
  return new Promise((resolve, reject) => {
    const fail = (err: unknown) => {
      if (err instanceof ApiError) reject(err);
      else if (ctx.signal.aborted)
        reject(
          new ImageFetchError(
            'url_fetch_timeout',
            `Downloading the image took longer than ${ctx.timeoutMs} ms.`,
            err,
          ),
        );
      else reject(socketFailure(err as NodeJS.ErrnoException, url));
    };
    const client = url.protocol === 'https:' ? https : http;
    const req = client.request(
      {
        protocol: url.protocol,
        hostname: connectHost(url),
        port: url.port === '' ? undefined : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: REQUEST_HEADERS,
        // A fresh socket per hop: a pooled one may have been dialled under another hop's check.
        agent: false,
        lookup: guardedLookup(ctx.lookup, ctx.addressPolicy),
        signal: ctx.signal,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (REDIRECT_STATUSES.has(status)) {
          res.resume();
          req.destroy();
          const location = res.headers.location;
          if (!location) {
            reject(
              new ImageFetchError(
                'url_fetch_failed',
                `${url.host} answered ${status} without a Location to follow.`,
              ),
            );
            return;
          }
          resolve({ kind: 'redirect', location });
          return;
        }
        if (status !== 200) {
          res.resume();
          req.destroy();
          const text = res.statusMessage ? ` ${res.statusMessage}` : '';
          reject(
            new ImageFetchError(
              'url_fetch_failed',
              `The image URL answered HTTP ${status}${text}, not an image.`,
            ),
          );
          return;
        }
        const encoding = res.headers['content-encoding'];
        if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
          req.destroy();
          reject(
            new ImageFetchError(
              'url_fetch_failed',
              `${url.host} sent the image compressed (${encoding}), which is not accepted.`,
            ),
          );
          return;
        }
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > ctx.maxBytes) {
          req.destroy();
          reject(imageTooLarge(declared, ctx.maxBytes));
          return;
        }
        const contentType = res.headers['content-type'];
        readBody(res, ctx).then((bytes) => resolve({ kind: 'image', bytes, contentType }), fail);
      },
    );
    req.on('error', fail);
    req.end();
  });
}

/**
 * GETs an image from an untrusted URL. Every hop's URL is checked (scheme, credentials,
 * literal address) and every host name is resolved by a lookup that refuses the connection if
 * any answer is not public, at connect time. Redirects are followed by hand, at most
 * `maxRedirects`, each re-checked. Body size is enforced while streaming, time across all hops.
 */
export async function fetchImageSafely(url: string, opts: SafeFetchOptions): Promise<FetchedImage> {
  const allowHttp = opts.allowHttp ?? false;
  const maxRedirects = opts.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const addressPolicy = opts.addressPolicy ?? isPublicAddress;
  let current = assertFetchableUrl(url, { allowHttp, addressPolicy });

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), opts.timeoutMs);
  const ctx: HopContext = {
    signal: controller.signal,
    timeoutMs: opts.timeoutMs,
    maxBytes: opts.maxBytes,
    lookup: opts.lookup ?? resolveWithSystemDns,
    addressPolicy,
  };
  try {
    for (let redirects = 0; ; redirects++) {
      const hop = await requestOnce(current, ctx);
      if (hop.kind === 'image') {
        return { bytes: hop.bytes, finalUrl: current.href, contentType: hop.contentType };
      }
      if (redirects >= maxRedirects) {
        throw new UnsafeUrlError(
          'too_many_redirects',
          `The image URL redirected more than ${maxRedirects} times.`,
        );
      }
      let next: URL;
      try {
        next = new URL(hop.location, current);
      } catch {
        throw new ImageFetchError('url_fetch_failed', `${current.host} redirected to an invalid URL.`);
      }
      current = assertFetchableUrl(next, { allowHttp, addressPolicy });
    }
  } finally {
    clearTimeout(timer);
  }
}
