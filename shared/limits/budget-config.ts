// The session budget's limits (SESSION_MAX_TOKENS, SESSION_MAX_COST_USD), read by each loader
// that needs them: chat (every turn) and the browser functions (a browser's image request).
import { type Env, optionalIntVar, optionalPositiveVar, readEnv } from '../env-vars';
import type { BudgetLimits } from './budget';

const vars = {
  SESSION_MAX_TOKENS: optionalIntVar(0, Number.MAX_SAFE_INTEGER),
  SESSION_MAX_COST_USD: optionalPositiveVar(),
};

/** The limits set; an empty object when none is (the budget is then only counted). */
export function loadSessionBudgetLimits(env: Env): BudgetLimits {
  const e = readEnv(vars, env);
  return {
    ...(e.SESSION_MAX_TOKENS !== undefined ? { maxTokens: e.SESSION_MAX_TOKENS } : {}),
    ...(e.SESSION_MAX_COST_USD !== undefined ? { maxCostUsd: e.SESSION_MAX_COST_USD } : {}),
  };
}
