// What a Lambda entry reads before its function's configuration: the log level (so that a
// configuration error can be logged at all), the stage, and how often secrets are re-read.
import { choiceVar, type Env, intVar, readEnv, textVar } from '../../shared/env-vars';
import type { ConfigError } from '../../shared/errors';
import type { LogLevel } from '../../shared/observability/log';

export interface HostSettings {
  logLevel: LogLevel;
  stage: string | undefined;
  /** How often a warm container re-reads its secrets (SECRET_REFRESH_SECONDS, default 300). */
  secretRefreshMs: number;
}

const hostEnvShape = {
  LOG_LEVEL: choiceVar(['debug', 'info', 'warn', 'error'], 'info'),
  STAGE: textVar,
  SECRET_REFRESH_SECONDS: intVar(300, 1, 86_400),
};

/**
 * The host's settings; a bad value leaves the defaults and comes back as `problem`, for the
 * entry to log once its logger exists (the function's own loader refuses a bad LOG_LEVEL too).
 */
export function loadHostSettings(env: Env): { settings: HostSettings; problem?: ConfigError } {
  const from = (e: ReturnType<typeof readEnv<typeof hostEnvShape>>): HostSettings => ({
    logLevel: e.LOG_LEVEL,
    stage: e.STAGE,
    secretRefreshMs: e.SECRET_REFRESH_SECONDS * 1000,
  });
  try {
    return { settings: from(readEnv(hostEnvShape, env)) };
  } catch (err) {
    return { settings: from(readEnv(hostEnvShape, {})), problem: err as ConfigError };
  }
}
