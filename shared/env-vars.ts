// The one way the environment becomes values: zod pieces for whole numbers, numbers, booleans,
// choices and JSON (a blank value counts as unset), and readEnv, which checks a function's
// variables at once and throws a ConfigError that names the variable. Only config loaders use it.
import { z } from 'zod';
import { ConfigError } from './errors';

/** The environment a function starts with (process.env, or a test's plain object). */
export type Env = Readonly<Record<string, string | undefined>>;

export const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const wholeNumber = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

/** A whole number in [min, max], `fallback` when unset. */
export function intVar(fallback: number, min: number, max: number) {
  return z.preprocess(blankToUndefined, wholeNumber(min, max).default(fallback));
}

/** A whole number in [min, max], or undefined when unset. */
export function optionalIntVar(min: number, max: number) {
  return z.preprocess(blankToUndefined, wholeNumber(min, max).optional());
}

/** A number above zero (fractions allowed), or undefined when unset. */
export function optionalPositiveVar() {
  return z.preprocess(
    blankToUndefined,
    z.coerce
      .number({ error: 'must be a positive number' })
      .refine((n) => Number.isFinite(n) && n > 0, 'must be a positive number')
      .optional(),
  );
}

/** One of a few words, case-insensitive; `fallback` when unset. */
export function choiceVar<const T extends readonly [string, ...string[]]>(choices: T, fallback: T[number]) {
  const listed = choices.map((c) => `"${c}"`);
  const message = `must be ${listed.slice(0, -1).join(', ')}${listed.length > 1 ? ' or ' : ''}${listed.at(-1)}`;
  return z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' ? v.trim().toLowerCase() : undefined),
    z.enum(choices, { error: message }).default(fallback as never),
  );
}

/** "true" or "false" (any case); `fallback` when unset. */
export function boolVar(fallback: boolean) {
  return choiceVar(['true', 'false'], fallback ? 'true' : 'false').transform((v) => v === 'true');
}

/** Trimmed text, or undefined when unset or blank. */
export const textVar = z.preprocess(blankToUndefined, z.string().trim().optional());

/** A JSON document checked against `schema`, or undefined when unset. */
export function jsonVar<T extends z.ZodType>(schema: T) {
  return z.preprocess((v, ctx) => {
    const raw = blankToUndefined(v);
    if (typeof raw !== 'string') return raw;
    try {
      return JSON.parse(raw);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `is not valid JSON: ${(err as Error).message}` });
      return z.NEVER;
    }
  }, schema.optional());
}

/**
 * Reads the variables `shape` names from `env`, all checked at once; the first problem is thrown
 * as a ConfigError naming its variable (and, inside JSON, where in the document).
 */
export function readEnv<S extends z.ZodRawShape>(shape: S, env: Env): z.infer<z.ZodObject<S>> {
  const parsed = z.object(shape).safeParse(env);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const [name = '(environment)', ...inside] = issue.path.map(String);
  if (inside.length > 0) throw new ConfigError(`${name} is invalid at ${inside.join('.')}: ${issue.message}`);
  throw new ConfigError(`${name} ${issue.message} (got "${String(env[name] ?? '').slice(0, 100)}")`);
}
