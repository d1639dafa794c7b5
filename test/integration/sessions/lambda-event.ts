// Function URL (payload v2) events and a Lambda context, shaped as the runtime delivers them,
// for invoking the browser API's Lambda entries directly.
import type { Context, LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';

export function functionUrlEvent(
  method: string,
  path: string,
  opts: { body?: unknown; headers?: Record<string, string>; ip?: string } = {},
): LambdaFunctionURLEvent {
  const json = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { ...(json ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'fn',
      domainName: 'fn.lambda-url.us-east-1.on.aws',
      domainPrefix: 'fn',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: opts.ip ?? '203.0.113.50', userAgent: 'jest' },
      requestId: `req-${Math.random().toString(36).slice(2)}`,
      routeKey: '$default',
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    ...(json !== undefined
      ? { body: Buffer.from(json).toString('base64'), isBase64Encoded: true }
      : { isBase64Encoded: false }),
  };
}

export function lambdaContext(remainingMs = 15_000): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'test-fn',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:test-fn',
    memoryLimitInMB: '512',
    awsRequestId: 'req',
    logGroupName: '/aws/lambda/test-fn',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

export type FunctionUrlHandler = (
  event: LambdaFunctionURLEvent,
  context: Context,
) => Promise<LambdaFunctionURLResult>;

export function parseResult<T>(result: LambdaFunctionURLResult): {
  status: number;
  headers: Record<string, string>;
  json: T;
} {
  if (typeof result === 'string') throw new Error('expected a structured function URL result');
  const body = result.body ?? '';
  return {
    status: result.statusCode ?? 200,
    headers: Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)])),
    json: (body ? JSON.parse(body) : undefined) as T,
  };
}
