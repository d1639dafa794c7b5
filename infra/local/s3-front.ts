// The local S3 endpoint browsers and SDKs talk to: it checks a POST upload against its signed
// policy the way S3 does (size range, conditions, expiry; s3rver itself accepts any POST) and
// forwards everything else to s3rver untouched. A POST upload that s3rver stored is announced
// to `onObjectCreated` (the bucket's event notifications, which s3rver lacks).
import {
  Agent,
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import { checkPostPolicy, type PostPolicyVerdict } from './post-policy';
import type { CreatedObject } from './s3-notifications';

export interface S3FrontOptions {
  /** s3rver's own loopback port. */
  targetPort: number;
  buckets: readonly string[];
  /** Origins a refused browser upload may read its error from (CORS, as s3rver answers). */
  corsOrigins: readonly string[];
  now?: () => number;
  /** Called once a form upload is stored (s3rver answered 2xx). */
  onObjectCreated?: (created: CreatedObject) => void;
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
  const forward = (req: IncomingMessage, res: ServerResponse, body?: Buffer, stored?: StoredUpload) => {
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
        const status = answer.statusCode ?? 502;
        if (stored && status >= 200 && status < 300)
          opts.onObjectCreated?.({
            ...stored,
            eTag: String(answer.headers.etag ?? '').replace(/"/g, ''),
            eventName: 'ObjectCreated:Post',
            sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
          });
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
      void verdictFor(bucket, req.headers['content-type']!, body, now()).then(({ verdict, upload }) =>
        verdict.ok ? forward(req, res, body, upload) : refuse(req, res, verdict),
      );
    });
  });
}

/** The form-key variable S3 replaces with the uploaded file's name. */
const FILENAME_VARIABLE = ['$', '{filename}'].join('');

/** The object a form upload stores, once s3rver has taken it. */
type StoredUpload = Pick<CreatedObject, 'bucket' | 'key' | 'size'>;

async function verdictFor(
  bucket: string,
  contentType: string,
  body: Buffer,
  now: number,
): Promise<{ verdict: PostPolicyVerdict; upload?: StoredUpload }> {
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
      verdict: {
        ok: false,
        status: 400,
        code: 'MalformedPOSTRequest',
        message: 'The body of your POST request is not well-formed multipart/form-data.',
      },
    };
  }
  const fields: [string, string][] = [];
  let fileSize: number | undefined;
  let fileName = '';
  for (const [name, value] of form.entries()) {
    if (name.toLowerCase() === 'file') {
      // S3 stores whatever the `file` field holds, a plain text value included.
      if (fileSize === undefined) {
        fileSize = typeof value === 'string' ? Buffer.byteLength(value) : value.size;
        fileName = typeof value === 'string' ? '' : value.name;
      }
    } else if (typeof value === 'string') fields.push([name, value]);
  }
  const verdict = checkPostPolicy({ bucket, fields, fileSize, now });
  const key = fields.find(([name]) => name.toLowerCase() === 'key')?.[1];
  if (!verdict.ok || key === undefined || fileSize === undefined) return { verdict };
  // S3 puts the file's name where the key says ${filename}.
  return { verdict, upload: { bucket, key: key.replaceAll(FILENAME_VARIABLE, fileName), size: fileSize } };
}
