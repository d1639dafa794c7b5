// What a Lambda entry reads before its configuration: through the one environment parser, with a
// bad value reported by name (for the entry to log) instead of crashing the cold start.
import { loadHostSettings } from '../../../functions/host/settings';
import { ConfigError } from '../../../shared/errors';

test('defaults: info, no stage, secrets re-read every 300 s', () => {
  expect(loadHostSettings({})).toEqual({
    settings: { logLevel: 'info', stage: undefined, secretRefreshMs: 300_000 },
  });
});

test('values are read and normalized', () => {
  expect(
    loadHostSettings({ LOG_LEVEL: 'DEBUG', STAGE: 'prod', SECRET_REFRESH_SECONDS: '60' }).settings,
  ).toEqual({
    logLevel: 'debug',
    stage: 'prod',
    secretRefreshMs: 60_000,
  });
});

test.each([
  [{ SECRET_REFRESH_SECONDS: 'soon' }, 'SECRET_REFRESH_SECONDS must be a whole number (got "soon")'],
  [{ SECRET_REFRESH_SECONDS: '0' }, 'SECRET_REFRESH_SECONDS must be at least 1 (got "0")'],
  [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be "debug", "info", "warn" or "error" (got "loud")'],
])('%j: the defaults, and the problem named for the log', (env, message) => {
  const { settings, problem } = loadHostSettings(env);
  expect(settings).toEqual({ logLevel: 'info', stage: undefined, secretRefreshMs: 300_000 });
  expect(problem).toBeInstanceOf(ConfigError);
  expect(problem?.message).toBe(message);
});
