// Who did it: what building and sending our request throws is classified as the upstream's
// doing (counts against its breaker) or ours / the caller's (never counts). Uses the official
// SDKs' own error classes, since the classification recognizes them by shape.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { UpstreamError, ValidationError } from '../../../shared/errors';
import {
  countsAsFailure,
  isNetworkError,
  sendPhaseError,
  toUpstreamError,
} from '../../../shared/providers/upstream-error';

const live = () => new AbortController().signal;
const errno = (code: string, message = code) => Object.assign(new Error(message), { code });

describe("sendPhaseError: ours or the caller's, never counted", () => {
  test.each([
    ['a stack overflow serializing a deep value', new RangeError('Maximum call stack size exceeded')],
    ['a cyclic value', new TypeError('Converting circular structure to JSON')],
    ['a BigInt', new TypeError('Do not know how to serialize a BigInt')],
    ['a TypeError in our transform', new TypeError("Cannot read properties of undefined (reading 'map')")],
    ['the openai SDK client-side check', new OpenAI.OpenAIError('Missing required argument')],
    [
      'the Anthropic SDK client-side check',
      new Anthropic.AnthropicError('Streaming is strongly recommended'),
    ],
    ['a thrown string', 'odd'],
    ['undefined', undefined],
  ])('%s -> a 500 of ours', (_what, thrown) => {
    const err = sendPhaseError(thrown, 'openai', live());
    expect(err).toMatchObject({ status: 500, code: 'internal_error', errorClass: 'local_internal_error' });
    expect(err.retryable).toBe(false);
    expect(countsAsFailure(err)).toBe(false);
  });

  test("the caller's ValidationError -> a 400 keeping its code and param", () => {
    const err = sendPhaseError(
      new ValidationError('bad image', 'messages[0].content[1]', 'svg_not_allowed'),
      'anthropic',
      live(),
    );
    expect(err).toMatchObject({
      status: 400,
      type: 'invalid_request_error',
      code: 'svg_not_allowed',
      param: 'messages[0].content[1]',
      errorClass: 'local_invalid_request',
    });
    expect(countsAsFailure(err)).toBe(false);
  });
});

describe('sendPhaseError: what the upstream did still counts', () => {
  test.each([
    ['openai APIConnectionError', new OpenAI.APIConnectionError({ cause: errno('ECONNREFUSED') })],
    ['anthropic APIConnectionError', new Anthropic.APIConnectionError({ cause: errno('ECONNRESET') })],
    ['a raw ECONNREFUSED', errno('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1')],
    ['a raw ECONNRESET', errno('ECONNRESET', 'read ECONNRESET')],
    ['socket hang up', errno('ECONNRESET', 'socket hang up')],
    [
      'fetch failed (undici)',
      new TypeError('fetch failed', { cause: errno('UND_ERR_SOCKET', 'other side closed') }),
    ],
    ['a TLS certificate error', errno('CERT_HAS_EXPIRED', 'certificate has expired')],
    ['a TLS alt-name error', errno('ERR_TLS_CERT_ALTNAME_INVALID')],
    ['a DNS failure', errno('ENOTFOUND', 'getaddrinfo ENOTFOUND api.example')],
  ])('%s -> connection, counted', (_what, thrown) => {
    const err = sendPhaseError(thrown, 'openai', live());
    expect(err.errorClass).toBe('connection');
    expect(err.status).toBe(502);
    expect(countsAsFailure(err)).toBe(true);
  });

  test.each([
    ['openai', new OpenAI.APIConnectionTimeoutError()],
    ['anthropic', new Anthropic.APIConnectionTimeoutError()],
  ])('%s APIConnectionTimeoutError -> timeout, counted', (_sdk, thrown) => {
    const err = sendPhaseError(thrown, 'x', live());
    expect(err).toMatchObject({ errorClass: 'timeout', status: 504 });
    expect(countsAsFailure(err)).toBe(true);
  });

  test('an HTTP status from the upstream keeps its meaning', () => {
    const e500 = OpenAI.APIError.generate(500, { message: 'down' }, undefined, new Headers());
    expect(sendPhaseError(e500, 'openai', live())).toMatchObject({
      errorClass: 'http_5xx',
      upstreamStatus: 500,
    });
    expect(countsAsFailure(sendPhaseError(e500, 'openai', live()))).toBe(true);
    const e400 = OpenAI.APIError.generate(400, { message: 'bad' }, undefined, new Headers());
    expect(countsAsFailure(sendPhaseError(e400, 'openai', live()))).toBe(false);
  });

  test('an abort wins over what it caused, and never counts', () => {
    const ctrl = new AbortController();
    ctrl.abort();
    const err = sendPhaseError(new RangeError('whatever'), 'openai', ctrl.signal);
    expect(err.errorClass).toBe('aborted');
    expect(countsAsFailure(err)).toBe(false);
  });

  test('an UpstreamError is passed through', () => {
    const own = new UpstreamError('x', { errorClass: 'not_configured', status: 503 });
    expect(sendPhaseError(own, 'anthropic', live())).toBe(own);
  });
});

test('isNetworkError looks through causes but not at our own argument errors', () => {
  expect(isNetworkError(new Error('outer', { cause: new Error('mid', { cause: errno('EPIPE') }) }))).toBe(
    true,
  );
  expect(isNetworkError(errno('ERR_INVALID_ARG_TYPE'))).toBe(false);
  expect(isNetworkError(errno('ERR_HTTP_INVALID_HEADER_VALUE'))).toBe(false);
  expect(isNetworkError(new RangeError('Maximum call stack size exceeded'))).toBe(false);
});

test('after the response started, a statusless error is a broken stream and counts', () => {
  const err = toUpstreamError(new TypeError('terminated'), 'openai');
  expect(err.errorClass).toBe('connection');
  expect(countsAsFailure(err)).toBe(true);
});

describe('toUpstreamError: what the SDKs throw about the call, in our terms', () => {
  const openaiHttp = (status: number, headers: Record<string, string> = {}, message = 'upstream says no') =>
    OpenAI.APIError.generate(status, { error: { message } }, undefined, new Headers(headers));
  const anthropicHttp = (status: number, headers: Record<string, string> = {}) =>
    Anthropic.APIError.generate(
      status,
      { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
      undefined,
      new Headers(headers),
    );

  test.each([
    [
      'OpenAI 429 with retry-after',
      openaiHttp(429, { 'retry-after': '2' }),
      {
        status: 429,
        errorClass: 'http_429',
        retryable: true,
        retryAfterMs: 2000,
        code: 'upstream_rate_limited',
      },
    ],
    [
      'OpenAI 429 with retry-after-ms',
      openaiHttp(429, { 'retry-after-ms': '150' }),
      { status: 429, retryAfterMs: 150 },
    ],
    [
      'OpenAI 400: the request itself, not retried',
      openaiHttp(400),
      { status: 400, errorClass: 'http_4xx_request', retryable: false, code: 'upstream_invalid_request' },
    ],
    ['OpenAI 413', openaiHttp(413), { status: 400, errorClass: 'http_4xx_request' }],
    ['OpenAI 422', openaiHttp(422), { status: 400, errorClass: 'http_4xx_request' }],
    [
      'OpenAI 401: our key, a 502 naming auth',
      openaiHttp(401),
      { status: 502, errorClass: 'http_401', retryable: false, code: 'upstream_auth_failed' },
    ],
    ['OpenAI 403', openaiHttp(403), { status: 502, code: 'upstream_auth_failed' }],
    [
      'OpenAI 404 (a model name the target lacks)',
      openaiHttp(404),
      { status: 502, errorClass: 'http_404', retryable: false, code: 'upstream_error' },
    ],
    [
      'OpenAI 500',
      openaiHttp(500),
      { status: 502, errorClass: 'http_5xx', retryable: true, upstreamStatus: 500 },
    ],
    [
      'OpenAI 503 with retry-after',
      openaiHttp(503, { 'retry-after': '1' }),
      { errorClass: 'http_5xx', retryable: true, retryAfterMs: 1000 },
    ],
    [
      'Anthropic 529 overloaded',
      anthropicHttp(529),
      { status: 502, errorClass: 'overloaded', retryable: true, upstreamStatus: 529 },
    ],
    ['Anthropic 408', anthropicHttp(408), { errorClass: 'http_408', retryable: true }],
    [
      'a connection error',
      new OpenAI.APIConnectionError({ message: 'Connection error.' }),
      { status: 502, errorClass: 'connection', retryable: true, code: 'upstream_connection_error' },
    ],
    [
      "the SDK's own timeout",
      new OpenAI.APIConnectionTimeoutError(),
      { status: 504, errorClass: 'timeout', retryable: true, code: 'upstream_timeout' },
    ],
    ["Anthropic's user abort", new Anthropic.APIUserAbortError(), { errorClass: 'aborted' }],
    [
      'a DOM AbortError',
      Object.assign(new Error('aborted'), { name: 'AbortError' }),
      { errorClass: 'aborted' },
    ],
  ])('%s', (_name, thrown, expected) => {
    const err = toUpstreamError(thrown, 'openai');
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject(expected);
    expect(err.cause).toBe(thrown);
  });

  test('what counts against a breaker: upstream failures, not the request, rate limits or aborts', () => {
    const counts = (thrown: unknown) => countsAsFailure(toUpstreamError(thrown, 'openai'));
    expect([openaiHttp(500), anthropicHttp(529), new OpenAI.APIConnectionTimeoutError()].map(counts)).toEqual(
      [true, true, true],
    );
    expect([openaiHttp(400), openaiHttp(429), new Anthropic.APIUserAbortError()].map(counts)).toEqual([
      false,
      false,
      false,
    ]);
  });

  test('the message names the provider and the upstream reason, whitespace folded, bounded', () => {
    const err = toUpstreamError(openaiHttp(500, {}, `model\n  overloaded ${'x'.repeat(500)}`), 'groq');
    expect(err.message).toMatch(/^groq failed with HTTP 500: model overloaded x+$/);
    expect(err.message.length).toBeLessThan(400);
  });

  test('an UpstreamError passes through; an aborted signal whose reason is one is the truth', () => {
    const own = new UpstreamError('first byte timeout', { errorClass: 'first_byte_timeout', status: 504 });
    expect(toUpstreamError(own, 'openai')).toBe(own);
    const ctrl = new AbortController();
    ctrl.abort(own);
    expect(toUpstreamError(new OpenAI.APIUserAbortError(), 'openai', ctrl.signal)).toBe(own);
  });

  test("an aborted signal with any other reason makes a statusless error an abort (the openai SDK's own abort error is named plain 'Error')", () => {
    const ctrl = new AbortController();
    ctrl.abort(new Error('client gone'));
    expect(toUpstreamError(new TypeError('terminated'), 'openai', ctrl.signal).errorClass).toBe('aborted');
    expect(toUpstreamError(new OpenAI.APIUserAbortError(), 'openai', ctrl.signal)).toMatchObject({
      errorClass: 'aborted',
      retryable: false,
    });
  });
});
