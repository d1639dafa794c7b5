// Fake image upstreams on loopback, speaking the real wire formats: OpenAI's Images API (also
// Gemini's and Together's compatible endpoints) and Replicate's predictions API, with the faults
// the runner must survive (errors with retry-after, refusals, hangs, malformed images). Every
// request is recorded with its raw bytes, so multipart edits can be parsed as they arrived.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import sharp from 'sharp';

export interface RecordedImageRequest {
  method: string;
  /** Path and query as received. */
  path: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  /** The JSON body, when it is JSON. */
  json?: unknown;
  /** The multipart form, when it is one (images.edit). */
  form?: FormData;
}

export type ImageAnswer =
  | { kind: 'json'; status: number; body: unknown; headers?: Record<string, string> }
  | { kind: 'bytes'; status: number; body: Uint8Array; contentType: string }
  /** Never answers, until the server closes. */
  | { kind: 'hang' };

export type ImageResponder = ImageAnswer | ((req: RecordedImageRequest) => ImageAnswer);

export interface ImageUpstream {
  readonly url: string;
  readonly requests: RecordedImageRequest[];
  /** One-shot answers for the next requests matching nothing in `routes` (first in, first out). */
  enqueue(...answers: ImageResponder[]): void;
  /** Answers for a path prefix (e.g. the files a Replicate output URL points at), any number of times. */
  route(prefix: string, responder: ImageResponder): void;
  close(): Promise<void>;
}

async function parse(req: RecordedImageRequest): Promise<void> {
  const type = req.headers['content-type'] ?? '';
  if (type.startsWith('application/json')) {
    try {
      req.json = JSON.parse(req.raw.toString('utf8')) as unknown;
    } catch {
      // left undefined: the test sees the raw body
    }
  } else if (type.startsWith('multipart/form-data')) {
    req.form = await new Request('http://fake/', {
      method: 'POST',
      headers: { 'content-type': type },
      body: req.raw,
    }).formData();
  }
}

export async function startImageUpstream(): Promise<ImageUpstream> {
  const queue: ImageResponder[] = [];
  const routes: { prefix: string; responder: ImageResponder }[] = [];
  const requests: RecordedImageRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const recorded: RecordedImageRequest = {
          method: req.method ?? 'GET',
          path: req.url ?? '/',
          headers: req.headers,
          raw: Buffer.concat(chunks),
        };
        await parse(recorded);
        requests.push(recorded);
        const routed = routes.find((r) => recorded.path.startsWith(r.prefix));
        const responder = routed?.responder ?? queue.shift();
        const answer: ImageAnswer = !responder
          ? {
              kind: 'json',
              status: 500,
              body: { error: { message: 'fake: nothing queued', type: 'server_error' } },
            }
          : typeof responder === 'function'
            ? responder(recorded)
            : responder;
        if (answer.kind === 'hang') return;
        if (answer.kind === 'bytes') {
          res.writeHead(answer.status, { 'content-type': answer.contentType });
          res.end(answer.body);
          return;
        }
        const text = JSON.stringify(answer.body);
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(text);
      })().catch(() => res.destroy());
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...answers) => {
      queue.push(...answers);
    },
    route: (prefix, responder) => {
      routes.push({ prefix, responder });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A real PNG of one colour, for fakes to answer with. */
export async function solidPng(width = 64, height = 64, colour = '#3366cc'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: colour } })
    .png()
    .toBuffer();
}

/** OpenAI's Images API success answer (`ImagesResponse`), as the gpt-image family sends it. */
export function imagesAnswer(png: Uint8Array | string, extra: { revisedPrompt?: string } = {}): ImageAnswer {
  const b64 = typeof png === 'string' ? png : Buffer.from(png).toString('base64');
  return {
    kind: 'json',
    status: 200,
    body: {
      created: 1_767_225_600,
      data: [{ b64_json: b64, ...(extra.revisedPrompt ? { revised_prompt: extra.revisedPrompt } : {}) }],
      usage: { input_tokens: 12, output_tokens: 272, total_tokens: 284 },
    },
  };
}

/** An OpenAI error answer, `{"error":{message,type,param,code}}`. */
export function openaiError(
  status: number,
  message: string,
  opts: { type?: string; code?: string | null; headers?: Record<string, string> } = {},
): ImageAnswer {
  return {
    kind: 'json',
    status,
    body: {
      error: { message, type: opts.type ?? 'invalid_request_error', param: null, code: opts.code ?? null },
    },
    ...(opts.headers ? { headers: opts.headers } : {}),
  };
}

/** A Replicate prediction object as the API returns it. */
export function prediction(
  id: string,
  status: 'starting' | 'processing' | 'succeeded' | 'failed' | 'canceled',
  fields: { output?: unknown; error?: string | null; model?: string } = {},
): ImageAnswer {
  return {
    kind: 'json',
    status: status === 'starting' ? 201 : 200,
    body: {
      id,
      model: fields.model ?? 'black-forest-labs/flux-schnell',
      version: 'hidden',
      input: {},
      logs: '',
      output: fields.output ?? null,
      error: fields.error ?? null,
      status,
      created_at: '2026-12-03T12:00:00.000Z',
      urls: {
        get: `https://api.replicate.com/v1/predictions/${id}`,
        cancel: `https://api.replicate.com/v1/predictions/${id}/cancel`,
      },
    },
  };
}
