// Request bodies of the OpenAI-shaped doors: JSON, a bound on its nesting, then a zod schema;
// precise 400s that name the bad field. The chat door's parser is the first user.
import type { z } from 'zod';
import { ValidationError } from '../errors';
import { MAX_JSON_DEPTH, tooDeepPath } from '../http/json-depth';
import { type ChatRequest, chatRequestSchema } from '../openai/schema';

/** Parses a JSON object body against `schema`; every refusal is a ValidationError naming its field. */
export function parseJsonBody<S extends z.ZodType>(body: Buffer | string, schema: S): z.output<S> {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (text.trim() === '')
    throw new ValidationError('The request body is empty; expected a JSON object.', null, 'invalid_json');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(
      `The request body is not valid JSON: ${(err as Error).message}`,
      null,
      'invalid_json',
    );
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ValidationError('The request body must be a JSON object.', null, 'invalid_json');
  }
  // Before anything recursive touches it (validation, transforms, the SDKs' serialization).
  const deep = tooDeepPath(json, MAX_JSON_DEPTH);
  if (deep !== null) {
    throw new ValidationError(
      `'${deep}' is nested deeper than ${MAX_JSON_DEPTH} levels of objects and arrays.`,
      deep,
      'json_too_deep',
    );
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = issue.path
      .map(String)
      .join('.')
      .replace(/\.(\d+)/g, '[$1]');
    throw new ValidationError(
      `Invalid value for '${param || 'body'}': ${issue.message}`,
      param || null,
      'invalid_value',
    );
  }
  return parsed.data;
}

export function parseChatRequest(body: Buffer | string): ChatRequest {
  return parseJsonBody(body, chatRequestSchema);
}
