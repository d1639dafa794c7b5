// zod pieces for environment variables, shared by the configuration loaders: a blank value
// counts as unset, and whole numbers are range-checked with messages that say the bound.
import { z } from 'zod';

export const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

export function intVar(fallback: number, min: number, max: number) {
  return z.preprocess(
    blankToUndefined,
    z.coerce
      .number({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`)
      .default(fallback),
  );
}
