// Parses a browser API request's JSON body with a zod schema, answering a precise 400 (which
// field, what is wrong) or 413, never a stack trace.
import type { z } from 'zod';
import { PayloadTooLargeError, ValidationError } from '../errors';
import type { HttpRequest } from '../http/types';

export function parseJsonBody<S extends z.ZodType>(
  req: HttpRequest,
  schema: S,
  opts: { maxBytes: number; emptyAs?: unknown },
): z.infer<S> {
  if (req.body.length > opts.maxBytes) {
    throw new PayloadTooLargeError(
      `The request body is larger than ${opts.maxBytes} bytes.`,
      'request_too_large',
    );
  }
  const text = req.body.toString('utf8');
  let json: unknown;
  if (text.trim() === '' && 'emptyAs' in opts) json = opts.emptyAs;
  else {
    try {
      json = JSON.parse(text);
    } catch {
      throw new ValidationError('The request body is not valid JSON.', null, 'invalid_json');
    }
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = issue.path.length > 0 ? issue.path.join('.') : null;
    throw new ValidationError(param ? `${param}: ${issue.message}` : issue.message, param, 'invalid_request');
  }
  return parsed.data;
}
