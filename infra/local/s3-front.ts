// The local S3 endpoint browsers and SDKs talk to: it checks a POST upload against its signed
// policy the way S3 does (size range, conditions, expiry; s3rver itself accepts any POST) and
// forwards everything else to s3rver untouched.
import {
  Agent,
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import { checkPostPolicy, type PostPolicyVerdict } from './post-policy';

export interface S3FrontOptions {
  /** s3rver's own loopback port. */
  targetPort: number;
  buckets: readonly string[];
  /** Origins a refused browser upload may read its error from (CORS, as s3rver answers). */
  corsOrigins: readonly string[];
  now?: () => number;
}

/** A form body this large is refused before parsing; no form the app issues comes near it. */
const MAX_FORM_BYTES = 64 * 1024 * 1024;

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function createS3Front(opts: S3FrontOptions): Server {
  const now = opts.now ?? Date.now;
  const buckets = new Set(opts.buckets);
  const origins = new Set(opts.corsOrigins);

  // One loopback connection per request: nothing pooled outlives a stop or a close.
  const agent = new Agent({ keepAlive: false });
  const forward = (req: IncomingMessage, res: ServerResponse, body?: Buffer) => {
    const upstream = request(
      {
        host: '127.0.0.1',
        port: opts.targetPort,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    if (body) upstream.end(body);
    else req.pipe(upstream);
  };

  const refuse = (
    req: IncomingMessage,
    res: ServerResponse,
    verdict: Exclude<PostPolicyVerdict, { ok: true }>,
  ) => {
    const origin = req.headers.origin;
    res.writeHead(verdict.status, {
      'content-type': 'application/xml',
      ...(origin && origins.has(origin) ? { 'access-control-allow-origin': origin, vary: 'origin' } : {}),
      // The rest of an oversized body is not read; the connection ends with the answer.
      connection: 'close',
    });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${verdict.code}</Code><Message>${xml(verdict.message)}</Message></Error>`,
    );
  };

  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/$/, '');
    const bucket = decodeURIComponent(path.slice(1));
    const isFormUpload =
      req.method === 'POST' &&
      !path.slice(1).includes('/') &&
      buckets.has(bucket) &&
      (req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data');
    if (!isFormUpload) return forward(req, res);

    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > MAX_FORM_BYTES) {
        done = true;
        refuse(req, res, {
          ok: false,
          status: 400,
          code: 'EntityTooLarge',
          message: 'Your proposed upload exceeds the maximum allowed size',
        });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      const body = Buffer.concat(chunks);
      void verdictFor(bucket, req.headers['content-type']!, body, now()).then((verdict) =>
        verdict.ok ? forward(req, res, body) : refuse(req, res, verdict),
      );
    });
  });
}

async function verdictFor(
  bucket: string,
  contentType: string,
  body: Buffer,
  now: number,
): Promise<PostPolicyVerdict> {
  let form: FormData;
  try {
    // The runtime's own multipart parser, through the fetch Request type.
    form = await new Request('http://s3.local/', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    }).formData();
  } catch {
    return {
      ok: false,
      status: 400,
      code: 'MalformedPOSTRequest',
      message: 'The body of your POST request is not well-formed multipart/form-data.',
    };
  }
  const fields: [string, string][] = [];
  let fileSize: number | undefined;
  for (const [name, value] of form.entries()) {
    if (name.toLowerCase() === 'file') {
      // S3 stores whatever the `file` field holds, a plain text value included.
      fileSize ??= typeof value === 'string' ? Buffer.byteLength(value) : value.size;
    } else if (typeof value === 'string') fields.push([name, value]);
  }
  return checkPostPolicy({ bucket, fields, fileSize, now });
}
