import { createLogger } from '../../../shared/observability/log';

test('credentials are redacted at any depth; token counters are not', () => {
  const lines: string[] = [];
  const log = createLogger('info', {}, (l) => lines.push(l));
  log.info('x', {
    authorization: 'Bearer abc',
    nested: { apiKey: 'sk-1', conversationToken: 't', signedUrl: 'wss://x?token=y', sessionSecret: 's' },
    usage: { prompt_tokens: 5, completion_tokens: 2 },
  });
  const entry = JSON.parse(lines[0]!);
  expect(entry.authorization).toBe('[redacted]');
  expect(entry.nested).toEqual({
    apiKey: '[redacted]',
    conversationToken: '[redacted]',
    signedUrl: '[redacted]',
    sessionSecret: '[redacted]',
  });
  expect(entry.usage).toEqual({ prompt_tokens: 5, completion_tokens: 2 });
  expect(lines[0]).not.toMatch(/sk-1|abc|wss:/);
});

test('levels below the threshold are dropped', () => {
  const lines: string[] = [];
  const log = createLogger('warn', {}, (l) => lines.push(l));
  log.info('no');
  log.warn('yes');
  expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['yes']);
});
