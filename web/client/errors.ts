// The one error type the browser client throws: the API's status and precise code (the
// `{"error":{message,type,param,code}}` body), or what went wrong on the way to S3 or the network.

export class VisionApiError extends Error {
  override readonly name = 'VisionApiError';
  constructor(
    /** HTTP status; 0 when no answer arrived (network error, CORS refusal, abort). */
    readonly status: number,
    /** The API's code (`image_not_found`, `not_an_image`, ...), `upload_failed` for S3, `network_error`, `aborted`. */
    readonly code: string,
    message: string,
    readonly extra: {
      type?: string;
      param?: string | null;
      retryAfterSeconds?: number;
      s3Code?: string;
    } = {},
  ) {
    super(message);
  }
}

interface ErrorBody {
  error?: { message?: unknown; type?: unknown; param?: unknown; code?: unknown };
}

/** An API answer that is not 2xx, as a VisionApiError (every API error body has this shape). */
export function apiErrorFrom(status: number, text: string, retryAfter: string | null): VisionApiError {
  let body: ErrorBody | undefined;
  try {
    body = JSON.parse(text) as ErrorBody;
  } catch {
    body = undefined;
  }
  const e = body?.error;
  const retry = retryAfter !== null && /^\d+$/.test(retryAfter) ? Number(retryAfter) : undefined;
  return new VisionApiError(
    status,
    typeof e?.code === 'string' ? e.code : `http_${status}`,
    typeof e?.message === 'string' ? e.message : `The API answered ${status}.`,
    {
      ...(typeof e?.type === 'string' ? { type: e.type } : {}),
      ...(typeof e?.param === 'string' || e?.param === null ? { param: e.param } : {}),
      ...(retry !== undefined ? { retryAfterSeconds: retry } : {}),
    },
  );
}

/** S3 answers errors in XML (`<Error><Code>EntityTooLarge</Code><Message>...`). */
export function s3ErrorFrom(status: number, xml: string): VisionApiError {
  const code = /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(xml)?.[1];
  return new VisionApiError(
    status,
    'upload_failed',
    `The upload to storage was refused (${status}${code ? ` ${code}` : ''})${message ? `: ${message}` : '.'}`,
    code ? { s3Code: code } : {},
  );
}

export function networkError(err: unknown, signal?: AbortSignal): VisionApiError {
  if (signal?.aborted) return new VisionApiError(0, 'aborted', 'The request was cancelled.');
  return new VisionApiError(
    0,
    'network_error',
    `The request did not reach the server (${err instanceof Error ? err.message : String(err)}).`,
  );
}
