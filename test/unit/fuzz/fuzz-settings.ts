// One place for the fuzzers' budget: a fixed seed (FUZZ_SEED overrides it; fast-check prints the
// seed and counterexample path of any failure, so a failure replays exactly) and small run
// counts (FUZZ_RUNS scales them) so every fuzz test together takes a few seconds in CI.
import type { Parameters } from 'fast-check';

const DEFAULT_SEED = 20261203;

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? Number.NaN : Number(raw);
  return Number.isInteger(n) ? n : fallback;
}

export const FUZZ_SEED = intFromEnv('FUZZ_SEED', DEFAULT_SEED);
const SCALE = Math.max(0.01, Number(process.env.FUZZ_RUNS_SCALE ?? '1') || 1);

/** fast-check parameters: the fixed seed and `runs` scaled by FUZZ_RUNS_SCALE. */
export function fuzz(runs: number): Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(runs * SCALE)), verbose: 1 };
}
