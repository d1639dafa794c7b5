// `make secrets`: merging keys into the two secrets without losing what is stored, and the
// whole run against an in-memory secret store.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateChatApiKey,
  llmKeyNames,
  mergeSecret,
  parseArgs,
  parseSecretObject,
  pickFromEnv,
  runSecrets,
  type SecretStore,
} from '../../infra/operations/secrets';

describe('mergeSecret', () => {
  test('adds and replaces keys, keeps the rest (CHAT_API_KEY above all)', () => {
    const current = { CHAT_API_KEY: 'generated', OPENAI_API_KEY: 'old' };
    expect(mergeSecret(current, { OPENAI_API_KEY: 'new', ANTHROPIC_API_KEY: 'a' })).toEqual({
      next: { CHAT_API_KEY: 'generated', OPENAI_API_KEY: 'new', ANTHROPIC_API_KEY: 'a' },
      changed: ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY'],
      removed: [],
    });
    expect(current).toEqual({ CHAT_API_KEY: 'generated', OPENAI_API_KEY: 'old' });
  });

  test('empty and identical values change nothing', () => {
    expect(
      mergeSecret({ CHAT_API_KEY: 'c', OPENAI_API_KEY: 'o' }, { OPENAI_API_KEY: 'o', GEMINI_API_KEY: '' }),
    ).toEqual({
      next: { CHAT_API_KEY: 'c', OPENAI_API_KEY: 'o' },
      changed: [],
      removed: [],
    });
  });

  test('removes named keys but never the chat key', () => {
    expect(
      mergeSecret({ CHAT_API_KEY: 'c', OPENAI_API_KEY: 'o' }, {}, ['OPENAI_API_KEY', 'NOT_THERE']),
    ).toEqual({
      next: { CHAT_API_KEY: 'c' },
      changed: [],
      removed: ['OPENAI_API_KEY'],
    });
    expect(() => mergeSecret({ CHAT_API_KEY: 'c' }, {}, ['CHAT_API_KEY'])).toThrow(
      'CHAT_API_KEY cannot be removed (use --rotate-chat-key to replace it)',
    );
  });

  test('a rotation replaces the chat key explicitly', () => {
    expect(mergeSecret({ CHAT_API_KEY: 'old' }, { CHAT_API_KEY: 'new' }).next).toEqual({
      CHAT_API_KEY: 'new',
    });
  });
});

describe('helpers', () => {
  test('key names: the built-in providers plus each compatible provider key', () => {
    expect(llmKeyNames({ compatibleProviders: undefined })).toEqual([
      'OPENAI_API_KEY',
      'ANTHROPIC_API_KEY',
      'GEMINI_API_KEY',
    ]);
    expect(
      llmKeyNames({
        compatibleProviders: {
          groq: { baseURL: 'https://api.groq.com/openai/v1', apiKeyEnv: 'GROQ_API_KEY' },
          ollama: { baseURL: 'http://10.0.0.2:11434/v1' },
        },
      }),
    ).toEqual(['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'GEMINI_API_KEY', 'GROQ_API_KEY']);
  });

  test('values come from the environment, trimmed, blanks skipped', () => {
    expect(pickFromEnv(['A', 'B', 'C'], { A: ' a ', B: '   ', OTHER: 'x' })).toEqual({ A: 'a' });
  });

  test('the stored value must be a JSON object of strings, or the script refuses to touch it', () => {
    expect(parseSecretObject(undefined, 's')).toEqual({});
    expect(parseSecretObject('{"A":"1"}', 's')).toEqual({ A: '1' });
    expect(() => parseSecretObject('plain-text-key', 'LLM secret')).toThrow(
      'LLM secret does not hold JSON; refusing to overwrite it',
    );
    expect(() => parseSecretObject('["a"]', 'LLM secret')).toThrow(
      'LLM secret holds JSON that is not an object',
    );
    expect(() => parseSecretObject('{"A":1}', 'LLM secret')).toThrow('LLM secret: "A" is not a string');
  });

  test('a generated chat key has the shape Secrets Manager gives the first one', () => {
    const key = generateChatApiKey();
    expect(key).toMatch(/^[A-Za-z0-9]{48}$/);
    expect(generateChatApiKey()).not.toBe(key);
  });

  test('arguments', () => {
    expect(parseArgs(['prod', '--rotate-chat-key', '--remove', 'GEMINI_API_KEY'])).toEqual({
      stage: 'prod',
      rotateChatKey: true,
      remove: ['GEMINI_API_KEY'],
    });
    expect(() => parseArgs([])).toThrow(/^usage: /);
    expect(() => parseArgs(['dev', '--force'])).toThrow('unknown option --force');
  });
});

describe('runSecrets', () => {
  const LLM = 'arn:aws:secretsmanager:eu-west-1:1:secret:llm-AbCdEf';
  const ELEVEN = 'arn:aws:secretsmanager:eu-west-1:1:secret:eleven-AbCdEf';
  const IMAGE = 'arn:aws:secretsmanager:eu-west-1:1:secret:image-AbCdEf';

  function setup(stageFile?: unknown) {
    const projectRoot = mkdtempSync(join(tmpdir(), 'secrets-'));
    mkdirSync(join(projectRoot, 'infra', 'stages'), { recursive: true });
    if (stageFile) writeFileSync(join(projectRoot, 'infra', 'stages', 'dev.json'), JSON.stringify(stageFile));
    const values = new Map<string, string>([
      [LLM, JSON.stringify({ CHAT_API_KEY: 'generated-by-secrets-manager' })],
      [ELEVEN, '{}'],
    ]);
    const writes: { arn: string; value: string }[] = [];
    const store: SecretStore = {
      read: async (arn) => values.get(arn),
      write: async (arn, value) => {
        writes.push({ arn, value });
        values.set(arn, value);
      },
    };
    const lines: string[] = [];
    return { projectRoot, values, writes, store, lines, log: (l: string) => lines.push(l) };
  }

  test('stores provider and ElevenLabs keys from the environment, keeps the chat key, prints no values', async () => {
    const t = setup({
      compatibleProviders: { groq: { baseURL: 'https://api.groq.com/openai/v1', apiKeyEnv: 'GROQ_API_KEY' } },
    });
    await runSecrets(['dev'], {
      env: {
        OPENAI_API_KEY: 'sk-openai',
        GROQ_API_KEY: 'gsk-groq',
        ELEVENLABS_API_KEY: 'xi-key',
        UNRELATED: 'x',
      },
      projectRoot: t.projectRoot,
      store: t.store,
      secretArns: async () => ({ llm: LLM, elevenLabs: ELEVEN, image: IMAGE }),
      log: t.log,
    });
    expect(JSON.parse(t.values.get(LLM)!)).toEqual({
      CHAT_API_KEY: 'generated-by-secrets-manager',
      OPENAI_API_KEY: 'sk-openai',
      GROQ_API_KEY: 'gsk-groq',
    });
    expect(JSON.parse(t.values.get(ELEVEN)!)).toEqual({ ELEVENLABS_API_KEY: 'xi-key' });
    const output = t.lines.join('\n');
    for (const value of ['sk-openai', 'gsk-groq', 'xi-key', 'generated-by-secrets-manager'])
      expect(output).not.toContain(value);
    expect(output).toContain('LLM secret: set OPENAI_API_KEY, set GROQ_API_KEY');
    expect(output).toContain('LLM secret now holds: CHAT_API_KEY, GROQ_API_KEY, OPENAI_API_KEY');
    expect(output).toContain('ElevenLabs secret: set ELEVENLABS_API_KEY');
  });

  test('the provider keys never land in the ElevenLabs secret and vice versa', async () => {
    const t = setup();
    await runSecrets(['dev'], {
      env: { ANTHROPIC_API_KEY: 'sk-ant', ELEVENLABS_API_KEY: 'xi' },
      projectRoot: t.projectRoot,
      store: t.store,
      secretArns: async () => ({ llm: LLM, elevenLabs: ELEVEN, image: IMAGE }),
      log: t.log,
    });
    expect(Object.keys(JSON.parse(t.values.get(LLM)!))).toEqual(['CHAT_API_KEY', 'ANTHROPIC_API_KEY']);
    expect(Object.keys(JSON.parse(t.values.get(ELEVEN)!))).toEqual(['ELEVENLABS_API_KEY']);
  });

  test('nothing to change: no write; a CHAT_API_KEY in the shell is ignored with a note', async () => {
    const t = setup();
    await runSecrets(['dev'], {
      env: { CHAT_API_KEY: 'stale-local-key' },
      projectRoot: t.projectRoot,
      store: t.store,
      secretArns: async () => ({ llm: LLM, elevenLabs: ELEVEN, image: IMAGE }),
      log: t.log,
    });
    expect(t.writes).toEqual([]);
    expect(JSON.parse(t.values.get(LLM)!).CHAT_API_KEY).toBe('generated-by-secrets-manager');
    expect(t.lines[0]).toMatch(/^note: CHAT_API_KEY in your shell is ignored/);
  });

  test('without keys in the environment it prompts (when a terminal is attached)', async () => {
    const t = setup();
    const asked: string[] = [];
    await runSecrets(['dev'], {
      env: {},
      projectRoot: t.projectRoot,
      store: t.store,
      secretArns: async () => ({ llm: LLM, elevenLabs: ELEVEN, image: IMAGE }),
      prompt: async (q) => {
        asked.push(q);
        return q.startsWith('GEMINI_API_KEY') ? 'gem-key' : q.startsWith('ELEVENLABS') ? 'xi' : '';
      },
      log: t.log,
    });
    expect(asked).toEqual([
      'OPENAI_API_KEY (Enter skips): ',
      'ANTHROPIC_API_KEY (Enter skips): ',
      'GEMINI_API_KEY (Enter skips): ',
      'ELEVENLABS_API_KEY (Enter skips): ',
      // The image secret asks only for keys not typed already (GEMINI_API_KEY goes to both).
      'TOGETHER_API_KEY (Enter skips): ',
      'REPLICATE_API_TOKEN (Enter skips): ',
    ]);
    expect(JSON.parse(t.values.get(LLM)!)).toEqual({
      CHAT_API_KEY: 'generated-by-secrets-manager',
      GEMINI_API_KEY: 'gem-key',
    });
    expect(JSON.parse(t.values.get(IMAGE)!)).toEqual({ GEMINI_API_KEY: 'gem-key' });
  });

  test("image keys go to the image secret only; OpenAI's to both, never the chat key", async () => {
    const t = setup();
    await runSecrets(['dev'], {
      env: { OPENAI_API_KEY: 'sk-openai', TOGETHER_API_KEY: 'tg-key', REPLICATE_API_TOKEN: 'r8-key' },
      projectRoot: t.projectRoot,
      store: t.store,
      secretArns: async () => ({ llm: LLM, elevenLabs: ELEVEN, image: IMAGE }),
      log: t.log,
    });
    expect(JSON.parse(t.values.get(IMAGE)!)).toEqual({
      OPENAI_API_KEY: 'sk-openai',
      TOGETHER_API_KEY: 'tg-key',
      REPLICATE_API_TOKEN: 'r8-key',
    });
    expect(Object.keys(JSON.parse(t.values.get(LLM)!)).sort()).toEqual(['CHAT_API_KEY', 'OPENAI_API_KEY']);
    expect(t.lines.join('\n')).not.toMatch(/tg-key|r8-key|sk-openai/);
  });

  test('--rotate-chat-key replaces the chat key and says to reconfigure the agent', async () => {
    const t = setup();
    await runSecrets(['dev', '--rotate-chat-key'], {
      env: {},
      projectRoot: t.projectRoot,
      store: t.store,
      secretArns: async () => ({ llm: LLM, elevenLabs: ELEVEN, image: IMAGE }),
      log: t.log,
    });
    const rotated = JSON.parse(t.values.get(LLM)!).CHAT_API_KEY as string;
    expect(rotated).toMatch(/^[A-Za-z0-9]{48}$/);
    expect(rotated).not.toBe('generated-by-secrets-manager');
    expect(t.lines.join('\n')).toContain('run `make agent STAGE=dev` now');
  });

  test('a secret that is not JSON is left alone', async () => {
    const t = setup();
    t.values.set(LLM, 'sk-someone-pasted-a-bare-key');
    await expect(
      runSecrets(['dev'], {
        env: { OPENAI_API_KEY: 'sk-new' },
        projectRoot: t.projectRoot,
        store: t.store,
        secretArns: async () => ({ llm: LLM, elevenLabs: ELEVEN, image: IMAGE }),
        log: t.log,
      }),
    ).rejects.toThrow('LLM secret does not hold JSON; refusing to overwrite it');
    expect(t.writes).toEqual([]);
  });
});
