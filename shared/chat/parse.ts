// The chat request body: JSON, a bound on its nesting, then the zod schema; precise 400s that
// name the bad field.
import { ValidationError } from '../errors';
import { MAX_JSON_DEPTH, tooDeepPath } from '../http/json-depth';
import { type ChatRequest, chatRequestSchema } from '../openai/schema';

export function parseChatRequest(body: Buffer | string): ChatRequest {
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
  const parsed = chatRequestSchema.safeParse(json);
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
