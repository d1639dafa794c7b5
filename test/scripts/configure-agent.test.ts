// `make agent` end to end against a fake ElevenLabs API on loopback that records every request:
// exact bodies, the xi-api-key header, idempotent re-runs, and clear errors on 401 and 404.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildAgentPatch,
  chatApiKeyFromSecret,
  chooseModelId,
  findSecretId,
  runConfigureAgent,
  verifyPatchedAgent,
} from '../../infra/operations/elevenlabs-agent';

const API_KEY = 'xi-test-key';
const AGENT_ID = 'agent_4201k0test';
const CHAT_URL = 'https://abc123.lambda-url.eu-west-1.on.aws/v1';
const CHAT_KEY = 'C'.repeat(48);
const SYSTEM_PROMPT = 'You are a helpful assistant who can see the pictures the user shares.';

interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

/** A minimal ElevenLabs: one agent, a workspace secret list, and a switch to fail with a status. */
class FakeElevenLabs {
  readonly requests: Recorded[] = [];
  secrets: { secret_id: string; name: string; type: 'stored' }[] = [];
  agent: Record<string, unknown> = {
    agent_id: AGENT_ID,
    name: 'Vision agent',
    conversation_config: {
      agent: { first_message: 'Hi!', prompt: { prompt: SYSTEM_PROMPT, llm: 'gpt-4o-mini' } },
    },
    platform_settings: { overrides: { conversation_config_override: { agent: { first_message: true } } } },
  };
  failWith: { status: number; body: unknown } | undefined;
  /** Simulates an API that replaced the whole prompt object instead of merging it. */
  replacePromptOnPatch = false;
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body: unknown = text ? JSON.parse(text) : undefined;
    const path = req.url ?? '';
    this.requests.push({ method: req.method ?? '', path, headers: req.headers, body });
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    if (this.failWith) return send(this.failWith.status, this.failWith.body);
    if (req.headers['xi-api-key'] !== API_KEY)
      return send(401, { detail: { status: 'invalid_api_key', message: 'Invalid API key' } });

    const agentPath = `/v1/convai/agents/${AGENT_ID}`;
    if (path.startsWith('/v1/convai/agents/') && path !== agentPath) {
      return send(404, { detail: { status: 'agent_not_found', message: 'Agent not found' } });
    }
    if (req.method === 'GET' && path === agentPath) return send(200, this.agent);
    if (req.method === 'PATCH' && path === agentPath) {
      const patch = body as {
        conversation_config: { agent: { prompt: Record<string, unknown> } };
        platform_settings: { overrides: Record<string, unknown> };
      };
      const current = this.agent as {
        conversation_config: { agent: { prompt: Record<string, unknown> } };
        platform_settings: { overrides: Record<string, unknown> };
      };
      current.conversation_config.agent.prompt = this.replacePromptOnPatch
        ? patch.conversation_config.agent.prompt
        : { ...current.conversation_config.agent.prompt, ...patch.conversation_config.agent.prompt };
      current.platform_settings.overrides = patch.platform_settings.overrides;
      return send(200, this.agent);
    }
    if (req.method === 'GET' && path === '/v1/convai/secrets') return send(200, { secrets: this.secrets });
    if (req.method === 'POST' && path === '/v1/convai/secrets') {
      const { name } = body as { name: string };
      const created = { type: 'stored' as const, secret_id: `sec_${this.secrets.length + 1}`, name };
      this.secrets.push(created);
      return send(200, created);
    }
    const update = /^\/v1\/convai\/secrets\/([^/]+)$/.exec(path);
    if (req.method === 'PATCH' && update) {
      const found = this.secrets.find((s) => s.secret_id === update[1]);
      return found ? send(200, found) : send(404, { detail: 'secret not found' });
    }
    return send(404, { detail: `no route ${req.method} ${path}` });
  }
}

let fake: FakeElevenLabs;
let base: string;
let projectRoot: string;

beforeEach(async () => {
  fake = new FakeElevenLabs();
  base = await fake.start();
  projectRoot = mkdtempSync(join(tmpdir(), 'agent-'));
  mkdirSync(join(projectRoot, 'infra', 'stages'), { recursive: true });
  mkdirSync(join(projectRoot, 'cdk.out'), { recursive: true });
  writeFileSync(
    join(projectRoot, 'infra', 'stages', 'dev.json'),
    JSON.stringify({ elevenLabsAgentId: AGENT_ID, modelRoutes: { 'vision-default': ['openai:gpt-4o'] } }),
  );
  // What `make deploy` writes (cdk deploy --outputs-file).
  writeFileSync(
    join(projectRoot, 'cdk.out', 'outputs-dev.json'),
    JSON.stringify({
      'elevenlabs-vision-dev': {
        ChatServerUrl: CHAT_URL,
        LlmSecretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:llm-AbCdEf',
        ElevenLabsSecretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:el-AbCdEf',
      },
    }),
  );
});

afterEach(async () => {
  await fake.stop();
});

function run(env: Record<string, string> = {}, argv = ['dev']) {
  const lines: string[] = [];
  const secretReads: string[] = [];
  const result = runConfigureAgent({
    argv,
    env: { ELEVENLABS_API_KEY: API_KEY, ELEVENLABS_API_BASE: base, ...env },
    projectRoot,
    readChatApiKey: async (arn) => {
      secretReads.push(arn);
      return CHAT_KEY;
    },
    log: (l) => lines.push(l),
  });
  return { result, lines, secretReads };
}

const EXPECTED_PATCH = {
  conversation_config: {
    agent: {
      prompt: {
        llm: 'custom-llm',
        custom_llm: {
          url: CHAT_URL,
          model_id: 'vision-default',
          api_key: { secret_id: 'sec_1' },
          request_headers: { 'X-Conversation-Id': { variable_name: 'system__conversation_id' } },
          api_type: 'chat_completions',
        },
      },
    },
  },
  platform_settings: {
    overrides: {
      conversation_config_override: { agent: { first_message: true } },
      custom_llm_extra_body: true,
    },
  },
};

test('first run: stores the chat key as a workspace secret and points the agent at the stage', async () => {
  const { result, lines, secretReads } = run();
  await expect(result).resolves.toBe(0);
  expect(secretReads).toEqual(['arn:aws:secretsmanager:eu-west-1:1:secret:llm-AbCdEf']);
  expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
    `GET /v1/convai/agents/${AGENT_ID}`,
    'GET /v1/convai/secrets',
    'POST /v1/convai/secrets',
    `PATCH /v1/convai/agents/${AGENT_ID}`,
  ]);
  for (const r of fake.requests) expect(r.headers['xi-api-key']).toBe(API_KEY);
  expect(fake.requests[2]!.body).toEqual({
    type: 'new',
    name: 'elevenlabs-vision-dev-chat-api-key',
    value: CHAT_KEY,
  });
  expect(fake.requests[2]!.headers['content-type']).toBe('application/json');
  expect(fake.requests[3]!.body).toEqual(EXPECTED_PATCH);
  expect(lines).toEqual([
    'workspace secret elevenlabs-vision-dev-chat-api-key created (sec_1)',
    `agent ${AGENT_ID}: custom LLM ${CHAT_URL} (model "vision-default", api_type chat_completions), X-Conversation-Id header, extra body on`,
  ]);
  // The key itself is never printed.
  expect(lines.join('\n')).not.toContain(CHAT_KEY);
});

test('CUSTOM_LLM_API_TYPE=responses points the agent at the Responses door; a wrong value stops before any call', async () => {
  const { result, lines } = run({ CUSTOM_LLM_API_TYPE: 'responses' });
  await expect(result).resolves.toBe(0);
  const patch = fake.requests.at(-1)!.body as typeof EXPECTED_PATCH;
  expect(patch.conversation_config.agent.prompt.custom_llm.api_type).toBe('responses');
  expect(lines[1]).toContain('api_type responses');
  fake.requests.length = 0;
  await expect(run({ CUSTOM_LLM_API_TYPE: 'completions' }).result).rejects.toThrow(
    /CUSTOM_LLM_API_TYPE is "completions"; set it to "chat_completions" \(the default\) or "responses"/,
  );
  expect(fake.requests).toEqual([]);
});

test('re-running updates the same workspace secret instead of creating another', async () => {
  await run().result;
  fake.requests.length = 0;
  const { result, lines } = run({ CUSTOM_LLM_MODEL: 'gpt-4o' });
  await expect(result).resolves.toBe(0);
  expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
    `GET /v1/convai/agents/${AGENT_ID}`,
    'GET /v1/convai/secrets',
    'PATCH /v1/convai/secrets/sec_1',
    `PATCH /v1/convai/agents/${AGENT_ID}`,
  ]);
  expect(fake.requests[2]!.body).toEqual({
    type: 'update',
    name: 'elevenlabs-vision-dev-chat-api-key',
    value: CHAT_KEY,
  });
  expect(fake.secrets).toHaveLength(1);
  const patch = fake.requests[3]!.body as typeof EXPECTED_PATCH;
  expect(patch.conversation_config.agent.prompt.custom_llm.model_id).toBe('gpt-4o');
  expect(lines[0]).toBe('workspace secret elevenlabs-vision-dev-chat-api-key updated (sec_1)');
});

test('a rejected API key (401) stops before anything changes, with a message that says what to fix', async () => {
  const { result } = run({ ELEVENLABS_API_KEY: 'wrong-key' });
  await expect(result).rejects.toThrow(
    `ElevenLabs rejected the API key (401) on GET /v1/convai/agents/${AGENT_ID}: Invalid API key: check ELEVENLABS_API_KEY and its permissions (Agents, Secrets)`,
  );
  expect(fake.requests).toHaveLength(1);
  expect(fake.requests[0]!.headers['xi-api-key']).toBe('wrong-key');
});

test('an unknown agent (404) stops before the secret is created', async () => {
  const { result } = run({ ELEVENLABS_AGENT_ID: 'agent_missing' });
  await expect(result).rejects.toThrow(
    'ElevenLabs agent "agent_missing" was not found: check ELEVENLABS_AGENT_ID (or elevenLabsAgentId in infra/stages/dev.json) and that the API key belongs to its workspace (404): Agent not found',
  );
  expect(fake.requests.map((r) => r.method)).toEqual(['GET']);
  expect(fake.secrets).toEqual([]);
});

test("other API errors carry the status and ElevenLabs' detail", async () => {
  fake.failWith = {
    status: 422,
    body: { detail: 'conversation_config.agent.prompt.custom_llm.url: invalid url' },
  };
  await expect(run().result).rejects.toThrow(
    `ElevenLabs answered 422 on GET /v1/convai/agents/${AGENT_ID}: conversation_config.agent.prompt.custom_llm.url: invalid url`,
  );
});

test('a PATCH that dropped the system prompt is reported (exit code 1)', async () => {
  fake.replacePromptOnPatch = true;
  const { result, lines } = run();
  await expect(result).resolves.toBe(1);
  expect(lines).toContain('warning: the system prompt changed; restore it in the ElevenLabs dashboard');
});

test('missing inputs fail with the variable to set', async () => {
  await expect(
    runConfigureAgent({
      argv: ['dev'],
      env: {},
      projectRoot,
      readChatApiKey: async () => CHAT_KEY,
      log: () => {},
    }),
  ).rejects.toThrow('ELEVENLABS_API_KEY is not set (export it in this shell)');
  writeFileSync(join(projectRoot, 'infra', 'stages', 'dev.json'), JSON.stringify({}));
  await expect(run().result).rejects.toThrow(
    'ELEVENLABS_AGENT_ID is not set and infra/stages/dev.json has no elevenLabsAgentId',
  );
  await expect(run({ ELEVENLABS_AGENT_ID: AGENT_ID }).result).rejects.toThrow(
    /^set CUSTOM_LLM_MODEL to the model name/,
  );
  await expect(run({}, []).result).rejects.toThrow('usage: tsx scripts/configure-agent.ts <stage>');
  expect(fake.requests).toEqual([]);
});

describe('pure parts', () => {
  test('the patch keeps other overrides and only adds what the backend needs', () => {
    expect(
      buildAgentPatch({
        chatServerUrl: CHAT_URL,
        modelId: 'm',
        chatKeySecretId: 's',
        currentOverrides: { custom_llm_extra_body: false, x: 1 },
      }).platform_settings,
    ).toEqual({ overrides: { x: 1, custom_llm_extra_body: true } });
  });

  test('finding the stage secret by name', () => {
    const list = {
      secrets: [
        { secret_id: 'a', name: 'other' },
        { secret_id: 'b', name: 'elevenlabs-vision-dev-chat-api-key' },
      ],
    };
    expect(findSecretId(list, 'elevenlabs-vision-dev-chat-api-key')).toBe('b');
    expect(findSecretId(list, 'missing')).toBeUndefined();
    expect(findSecretId({}, 'x')).toBeUndefined();
  });

  test('verification names each setting that did not take', () => {
    expect(
      verifyPatchedAgent({}, { conversation_config: { agent: { prompt: { llm: 'gpt-4o' } } } }, CHAT_URL),
    ).toEqual([
      'llm is "gpt-4o", not "custom-llm"',
      `custom_llm.url is undefined, not ${CHAT_URL}`,
      'the custom_llm_extra_body override is not enabled',
    ]);
    const agent = (apiType: string) => ({
      conversation_config: {
        agent: { prompt: { llm: 'custom-llm', custom_llm: { url: CHAT_URL, api_type: apiType } } },
      },
      platform_settings: { overrides: { custom_llm_extra_body: true } },
    });
    expect(verifyPatchedAgent({}, agent('chat_completions'), CHAT_URL, 'responses')).toEqual([
      'custom_llm.api_type is "chat_completions", not "responses"',
    ]);
    expect(verifyPatchedAgent({}, agent('responses'), CHAT_URL, 'responses')).toEqual([]);
  });

  test('model id: explicit, else the first named route', () => {
    expect(chooseModelId(' gpt-4o ', undefined)).toBe('gpt-4o');
    expect(chooseModelId(undefined, { '*': ['openai:*'], fast: ['openai:gpt-4o-mini'] })).toBe('fast');
    expect(() => chooseModelId(undefined, { '*': ['openai:*'] })).toThrow(/CUSTOM_LLM_MODEL/);
  });

  test('the chat key comes out of the LLM secret JSON', () => {
    expect(chatApiKeyFromSecret(JSON.stringify({ CHAT_API_KEY: 'k', OPENAI_API_KEY: 'o' }))).toBe('k');
    expect(() => chatApiKeyFromSecret('{}')).toThrow(/has no CHAT_API_KEY/);
    expect(() => chatApiKeyFromSecret('nope')).toThrow(/does not hold JSON/);
  });
});
