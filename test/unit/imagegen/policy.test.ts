// The image runner's decision after a failed attempt, as a table: retry (after how long), next
// entry, or stop; and which failures count against the breaker.
import { UpstreamError } from '../../../shared/errors';
import { ImageRefusedError, malformedImage } from '../../../shared/imagegen/generation-errors';
import {
  countsAgainstBreaker,
  DEFAULT_IMAGE_RUN_SETTINGS,
  decideAfterFailure,
  type FailureContext,
} from '../../../shared/imagegen/policy';

const up = (
  errorClass: string,
  opts: { retryable?: boolean; retryAfterMs?: number; status?: 400 | 429 | 502 | 504 } = {},
) => new UpstreamError('x', { errorClass, ...opts });
const refused = new ImageRefusedError('openai', 'safety system', { providerCode: 'moderation_blocked' });
const settings = {
  ...DEFAULT_IMAGE_RUN_SETTINGS,
  backoffBaseMs: 400,
  backoffMaxMs: 4000,
  maxRetryAfterMs: 10_000,
};
const base: Omit<FailureContext, 'error'> = {
  retry: 0,
  probe: false,
  callerAborted: false,
  msLeft: 60_000,
  settings,
  random: 0.5,
};

test.each<
  [string, Partial<FailureContext> & Pick<FailureContext, 'error'>, ReturnType<typeof decideAfterFailure>]
>([
  ['a refusal stops: it is the answer', { error: refused }, { kind: 'stop' }],
  [
    'the caller gave up: stop',
    { error: up('http_5xx', { retryable: true }), callerAborted: true },
    { kind: 'stop' },
  ],
  [
    '5xx, first failure: retry after jittered backoff',
    { error: up('http_5xx', { retryable: true }) },
    { kind: 'retry', delayMs: 300 },
  ],
  [
    '5xx already retried once: next entry',
    { error: up('http_5xx', { retryable: true }), retry: 1 },
    { kind: 'next' },
  ],
  [
    '429 with retry-after 3 s: retry after 3 s',
    { error: up('http_429', { retryable: true, retryAfterMs: 3000, status: 429 }) },
    { kind: 'retry', delayMs: 3000 },
  ],
  [
    '429 with retry-after above the bound: next entry now',
    { error: up('http_429', { retryable: true, retryAfterMs: 30_000, status: 429 }) },
    { kind: 'next' },
  ],
  [
    'retry-after longer than the budget left: next',
    { error: up('http_429', { retryable: true, retryAfterMs: 5000 }), msLeft: 4000 },
    { kind: 'next' },
  ],
  [
    'a timeout on the half-open probe: next (no second probe)',
    { error: up('timeout', { retryable: true, status: 504 }), probe: true },
    { kind: 'next' },
  ],
  [
    'malformed image (not retryable): next',
    { error: malformedImage('together', 'not base64') },
    { kind: 'next' },
  ],
  ['the request refused (400): next', { error: up('http_4xx_request', { status: 400 }) }, { kind: 'next' }],
])('%s', (_name, over, expected) => {
  expect(decideAfterFailure({ ...base, ...over })).toEqual(expected);
});

test.each<[string, UpstreamError | ImageRefusedError, boolean]>([
  ['refusal', refused, false],
  ['5xx', up('http_5xx'), true],
  ['timeout', up('timeout'), true],
  ['malformed image', malformedImage('x', 'y'), true],
  ['prediction failed', up('prediction_failed'), true],
  ['429', up('http_429'), false],
  ['400', up('http_4xx_request'), false],
  ['aborted', up('aborted'), false],
  ['our own bug', up('local_internal_error'), false],
])('countsAgainstBreaker(%s) is %s', (_n, error, counts) => {
  expect(countsAgainstBreaker(error)).toBe(counts);
});
