// What `make secrets` does, free of AWS clients and terminals (scripts/secrets.ts wires those):
// merge provider, ElevenLabs, image and chat keys into the stage's three secrets without losing the keys
// already stored, CHAT_API_KEY above all. Reports key names, never values.
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { loadStageConfig, type StageConfig } from '../stage-config';

export const CHAT_API_KEY = 'CHAT_API_KEY';
export const BUILT_IN_LLM_KEYS = ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'GEMINI_API_KEY'] as const;
export const ELEVENLABS_KEYS = ['ELEVENLABS_API_KEY'] as const;
/** The image secret: image provider keys (OpenAI's also serves prompt moderation). */
export const IMAGE_KEYS = [
  'OPENAI_API_KEY',
  'GEMINI_API_KEY',
  'TOGETHER_API_KEY',
  'REPLICATE_API_TOKEN',
] as const;

export type SecretObject = Record<string, string>;

export class SecretsScriptError extends Error {
  override name = 'SecretsScriptError';
}

/** Provider keys the LLM secret may hold: the built-in ones plus each compatible provider's. */
export function llmKeyNames(config: Pick<StageConfig, 'compatibleProviders'>): string[] {
  const extra = Object.values(config.compatibleProviders ?? {})
    .map((p) => p.apiKeyEnv)
    .filter((name): name is string => name !== undefined);
  return [...new Set<string>([...BUILT_IN_LLM_KEYS, ...extra])];
}

/** The non-empty values among `names` in `env`. */
export function pickFromEnv(
  names: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): SecretObject {
  const out: SecretObject = {};
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) out[name] = value;
  }
  return out;
}

/** A secret's current value as an object of string values; `undefined`/empty means a new secret. */
export function parseSecretObject(secretString: string | undefined, label: string): SecretObject {
  if (secretString === undefined || secretString.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw new SecretsScriptError(
      `${label} does not hold JSON; refusing to overwrite it (fix or empty it first)`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SecretsScriptError(`${label} holds JSON that is not an object; refusing to overwrite it`);
  }
  const out: SecretObject = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'string') throw new SecretsScriptError(`${label}: "${key}" is not a string`);
    out[key] = value;
  }
  return out;
}

export interface MergeResult {
  next: SecretObject;
  /** Keys whose value was added or replaced. */
  changed: string[];
  removed: string[];
}

/**
 * Merges `updates` into `current`: empty updates are ignored, keys not mentioned are kept, and
 * `remove` drops keys, except the protected ones (the chat key must never silently disappear,
 * or every ElevenLabs turn fails with 401).
 */
export function mergeSecret(
  current: SecretObject,
  updates: SecretObject,
  remove: readonly string[] = [],
  protectedKeys: readonly string[] = [CHAT_API_KEY],
): MergeResult {
  const next: SecretObject = { ...current };
  const changed: string[] = [];
  const removed: string[] = [];
  for (const key of remove) {
    if (protectedKeys.includes(key))
      throw new SecretsScriptError(`${key} cannot be removed (use --rotate-chat-key to replace it)`);
    if (key in next) {
      delete next[key];
      removed.push(key);
    }
  }
  for (const [key, value] of Object.entries(updates)) {
    if (value === '' || next[key] === value) continue;
    next[key] = value;
    changed.push(key);
  }
  return { next, changed, removed };
}

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A new chat bearer key shaped like the one Secrets Manager generates (48 letters and digits). */
export function generateChatApiKey(pick: (max: number) => number = randomInt): string {
  let key = '';
  for (let i = 0; i < 48; i++) key += KEY_ALPHABET[pick(KEY_ALPHABET.length)];
  return key;
}

export interface CliOptions {
  stage: string;
  rotateChatKey: boolean;
  remove: string[];
}

export function parseArgs(argv: readonly string[]): CliOptions {
  const options: CliOptions = { stage: '', rotateChatKey: false, remove: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--rotate-chat-key') options.rotateChatKey = true;
    else if (arg === '--remove') {
      const name = argv[++i];
      if (!name) throw new SecretsScriptError('--remove needs a key name');
      options.remove.push(name);
    } else if (arg.startsWith('-')) throw new SecretsScriptError(`unknown option ${arg}`);
    else if (!options.stage) options.stage = arg;
    else throw new SecretsScriptError(`unexpected argument ${arg}`);
  }
  if (!options.stage)
    throw new SecretsScriptError('usage: tsx scripts/secrets.ts <stage> [--rotate-chat-key] [--remove NAME]');
  return options;
}

/** Where secret values are read and written (Secrets Manager; a fake in tests). */
export interface SecretStore {
  read(arn: string): Promise<string | undefined>;
  write(arn: string, value: string): Promise<void>;
}

export interface SecretsDeps {
  env: Readonly<Record<string, string | undefined>>;
  projectRoot: string;
  store: SecretStore;
  /** Secret ARNs for the stage (from the stack outputs). */
  secretArns: (stage: string) => Promise<{ llm: string; elevenLabs: string; image: string }>;
  /** Asks for a value without echoing it; `undefined` when there is no terminal. */
  prompt?: (name: string) => Promise<string>;
  log: (line: string) => void;
}

interface SecretPlan {
  label: string;
  arn: string;
  names: string[];
  extraUpdates: SecretObject;
}

/** `answered`: values typed at the prompt for an earlier secret; a key two secrets hold is asked once. */
async function updateSecret(
  plan: SecretPlan,
  options: CliOptions,
  deps: SecretsDeps,
  answered: Map<string, string> = new Map(),
): Promise<void> {
  const current = parseSecretObject(await deps.store.read(plan.arn), plan.label);
  let updates = pickFromEnv(plan.names, deps.env);
  if (Object.keys(updates).length === 0 && deps.prompt) {
    updates = {};
    for (const name of plan.names) {
      if (answered.has(name)) {
        const earlier = answered.get(name)!;
        if (earlier) updates[name] = earlier;
        continue;
      }
      const hint = name in current ? ' (set; Enter keeps it)' : ' (Enter skips)';
      const value = (await deps.prompt(`${name}${hint}: `)).trim();
      answered.set(name, value);
      if (value) updates[name] = value;
    }
  }
  const applicable = options.remove.filter((key) => plan.names.includes(key) || key in current);
  const { next, changed, removed } = mergeSecret(current, { ...updates, ...plan.extraUpdates }, applicable);
  if (changed.length > 0 || removed.length > 0) {
    await deps.store.write(plan.arn, JSON.stringify(next));
    deps.log(
      `${plan.label}: ${[...changed.map((k) => `set ${k}`), ...removed.map((k) => `removed ${k}`)].join(', ')}`,
    );
  } else {
    deps.log(`${plan.label}: unchanged`);
  }
  deps.log(`${plan.label} now holds: ${Object.keys(next).sort().join(', ') || '(nothing)'}`);
}

export async function runSecrets(argv: readonly string[], deps: SecretsDeps): Promise<void> {
  const options = parseArgs(argv);
  const config = loadStageConfig(options.stage, join(deps.projectRoot, 'infra', 'stages'));
  const arns = await deps.secretArns(options.stage);
  if (deps.env[CHAT_API_KEY] && !options.rotateChatKey) {
    deps.log(
      `note: CHAT_API_KEY in your shell is ignored; the stack generated one (use --rotate-chat-key to replace it)`,
    );
  }
  const answered = new Map<string, string>();
  await updateSecret(
    {
      label: 'LLM secret',
      arn: arns.llm,
      names: llmKeyNames(config),
      extraUpdates: options.rotateChatKey ? { [CHAT_API_KEY]: generateChatApiKey() } : {},
    },
    options,
    deps,
    answered,
  );
  await updateSecret(
    { label: 'ElevenLabs secret', arn: arns.elevenLabs, names: [...ELEVENLABS_KEYS], extraUpdates: {} },
    options,
    deps,
  );
  // The same OPENAI_API_KEY / GEMINI_API_KEY from the shell go to both secrets: each function
  // reads only its own secret, so the image functions never see the chat key.
  await updateSecret(
    { label: 'Image secret', arn: arns.image, names: [...IMAGE_KEYS], extraUpdates: {} },
    options,
    deps,
    answered,
  );
  if (options.rotateChatKey) {
    deps.log(
      `CHAT_API_KEY rotated: run \`make agent STAGE=${options.stage}\` now so ElevenLabs sends the new key`,
    );
  }
  deps.log('Running functions read secrets when a container starts; new containers pick up these values.');
}
