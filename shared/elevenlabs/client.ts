// The one ElevenLabs API client. At run time it mints the short-lived credentials a browser needs
// to talk to a private ElevenLabs agent (a signed websocket URL, or a WebRTC conversation token),
// with errors for the browser API; for operations (`make agent`) it sends JSON requests with
// errors that say what to do. The API key is sent only in the `xi-api-key` header and never
// appears in an error, a log line or a response.
import { UpstreamError } from '../errors';

export const ELEVENLABS_API_BASE_URL = 'https://api.elevenlabs.io';

/** A failed operations request (`request`), with a message for the person running it. */
export class ElevenLabsApiError extends Error {
  override name = 'ElevenLabsApiError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface ElevenLabsClientOptions {
  apiKey: string;
  /** Overridable for tests and data-residency hosts (e.g. https://api.eu.residency.elevenlabs.io). */
  baseUrl?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const DEFAULT_TIMEOUT_MS = 5000;

/** Which ElevenLabs call failed, for messages people read. */
type Operation = 'signed URL' | 'conversation token';

export class ElevenLabsClient {
  private readonly apiKey: string;
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(opts: ElevenLabsClientOptions) {
    this.apiKey = opts.apiKey;
    this.baseUrl = (opts.baseUrl ?? ELEVENLABS_API_BASE_URL).replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.fetchImpl = opts.fetch ?? fetch;
  }

  /** `GET /v1/convai/conversation/get-signed-url` → `{signed_url}` (for `startSession({ signedUrl })`). */
  async getSignedUrl(agentId: string, signal?: AbortSignal): Promise<string> {
    const body = await this.get('/v1/convai/conversation/get-signed-url', agentId, 'signed URL', signal);
    return requireString(body, 'signed_url', 'signed URL');
  }

  /** `GET /v1/convai/conversation/token` → `{token}` (for `startSession({ conversationToken })`, WebRTC). */
  async getConversationToken(agentId: string, signal?: AbortSignal): Promise<string> {
    const body = await this.get('/v1/convai/conversation/token', agentId, 'conversation token', signal);
    return requireString(body, 'token', 'conversation token');
  }

  /**
   * An operations request (JSON in, JSON out); `notFound` is the message for a 404. Errors are
   * ElevenLabsApiError, worded for the person running the operation.
   */
  async request(method: string, path: string, body?: unknown, notFound?: string): Promise<unknown> {
    const url = `${this.baseUrl}${path}`;
    let res: Response;
    try {
      res = await this.send(method, path, { body });
    } catch (err) {
      throw new ElevenLabsApiError(`${method} ${url} failed: ${(err as Error).message}`, 0);
    }
    const text = await res.text();
    if (!res.ok) {
      const detail = describeErrorBody(text);
      if (res.status === 401 || res.status === 403) {
        throw new ElevenLabsApiError(
          `ElevenLabs rejected the API key (${res.status}) on ${method} ${path}${detail}: check ELEVENLABS_API_KEY and its permissions (Agents, Secrets)`,
          res.status,
        );
      }
      if (res.status === 404) {
        throw new ElevenLabsApiError(`${notFound ?? `${method} ${path} was not found`} (404)${detail}`, 404);
      }
      throw new ElevenLabsApiError(
        `ElevenLabs answered ${res.status} on ${method} ${path}${detail}`,
        res.status,
      );
    }
    if (text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ElevenLabsApiError(`ElevenLabs answered ${method} ${path} with non-JSON content`, res.status);
    }
  }

  /** The one way a request leaves: base URL, key header, JSON, this client's timeout. */
  private send(
    method: string,
    path: string,
    opts: { body?: unknown; signal?: AbortSignal | undefined; timeout?: AbortSignal },
  ): Promise<Response> {
    const timeout = opts.timeout ?? AbortSignal.timeout(this.timeoutMs);
    return this.fetchImpl(`${this.baseUrl}${path}`, {
      method,
      headers: {
        'xi-api-key': this.apiKey,
        accept: 'application/json',
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      signal: opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout,
    });
  }

  private async get(
    path: string,
    agentId: string,
    operation: Operation,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    let res: Response;
    try {
      res = await this.send('GET', `${path}?agent_id=${encodeURIComponent(agentId)}`, { signal, timeout });
    } catch (err) {
      if (timeout.aborted) {
        throw new UpstreamError(
          `ElevenLabs did not answer the ${operation} request within ${this.timeoutMs} ms.`,
          {
            status: 504,
            errorClass: 'timeout',
            code: 'elevenlabs_timeout',
            retryable: true,
          },
        );
      }
      // The cause is a network error (no key in it); kept for logs.
      throw new UpstreamError(`ElevenLabs could not be reached for the ${operation}.`, {
        status: 502,
        errorClass: 'connection',
        code: 'elevenlabs_unreachable',
        retryable: true,
        cause: err,
      });
    }
    if (!res.ok) {
      // The body is not relayed: it can describe the account, and the browser cannot act on it.
      await res.body?.cancel().catch(() => {});
      throw failureFor(res, operation, agentId);
    }
    try {
      return await res.json();
    } catch {
      throw new UpstreamError(
        `ElevenLabs answered the ${operation} request with something that is not JSON.`,
        {
          errorClass: 'bad_response',
          code: 'elevenlabs_bad_response',
        },
      );
    }
  }
}

function failureFor(res: Response, operation: Operation, agentId: string): UpstreamError {
  const status = res.status;
  if (status === 401 || status === 403) {
    return new UpstreamError(
      `ElevenLabs refused the server's API key (HTTP ${status}) when asked for a ${operation}. Check ELEVENLABS_API_KEY and its permissions.`,
      { errorClass: `http_${status}`, upstreamStatus: status, code: 'elevenlabs_auth_failed' },
    );
  }
  if (status === 404) {
    return new UpstreamError(
      `ElevenLabs has no agent ${agentId.slice(0, 100)} for this API key. Check ELEVENLABS_AGENT_ID.`,
      {
        errorClass: 'http_404',
        upstreamStatus: status,
        code: 'elevenlabs_agent_not_found',
      },
    );
  }
  if (status === 429) {
    const retryAfter = Number(res.headers.get('retry-after'));
    return new UpstreamError(`ElevenLabs is rate-limiting ${operation} requests.`, {
      status: 503,
      errorClass: 'http_429',
      upstreamStatus: status,
      code: 'elevenlabs_rate_limited',
      retryable: true,
      retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 1000,
    });
  }
  if (status === 400 || status === 422) {
    return new UpstreamError(
      `ElevenLabs rejected the ${operation} request (HTTP ${status}); is ELEVENLABS_AGENT_ID an agent id?`,
      {
        errorClass: `http_${status}`,
        upstreamStatus: status,
        code: 'elevenlabs_request_rejected',
      },
    );
  }
  return new UpstreamError(`ElevenLabs failed to issue a ${operation} (HTTP ${status}).`, {
    errorClass: status >= 500 ? 'http_5xx' : `http_${status}`,
    upstreamStatus: status,
    code: 'elevenlabs_unavailable',
    retryable: status >= 500,
  });
}

function requireString(body: unknown, field: string, operation: Operation): string {
  const value =
    body !== null && typeof body === 'object' ? (body as Record<string, unknown>)[field] : undefined;
  if (typeof value !== 'string' || value === '') {
    throw new UpstreamError(`ElevenLabs answered the ${operation} request without "${field}".`, {
      errorClass: 'bad_response',
      code: 'elevenlabs_bad_response',
    });
  }
  return value;
}

/** The useful part of an ElevenLabs error body (its `detail`), for operations messages. */
function describeErrorBody(text: string): string {
  if (!text) return '';
  try {
    const json = JSON.parse(text) as { detail?: unknown };
    const detail = json.detail;
    if (typeof detail === 'string') return `: ${detail}`;
    if (detail && typeof detail === 'object') {
      const message = (detail as { message?: unknown }).message;
      if (typeof message === 'string') return `: ${message}`;
    }
    return `: ${text.slice(0, 300)}`;
  } catch {
    return `: ${text.slice(0, 300)}`;
  }
}
