// What `make agent` does: point an existing ElevenLabs agent at a deployed stage. The chat
// bearer key becomes an ElevenLabs workspace secret, then the agent's LLM becomes our custom LLM
// (URL, that secret as API key, a conversation-id header) with the custom_llm_extra_body
// override enabled so browsers can pass our session id. Request bodies are pure functions.
//
// API shapes, from the ElevenLabs API reference and the types generated from its OpenAPI spec
// (elevenlabs-python `types/custom_llm.py`, `conv_ai_secret_locator.py`,
// `conv_ai_dynamic_variable.py`, `conversation_initiation_client_data_config_input.py`,
// `conversational_ai/secrets/raw_client.py`):
//   GET   /v1/convai/agents/{agent_id}
//   PATCH /v1/convai/agents/{agent_id}     partial update ("Patches an agent settings")
//   GET   /v1/convai/secrets               { secrets: [{ secret_id, name, ... }] }
//   POST  /v1/convai/secrets               { type: "new", name, value }    -> { secret_id, name }
//   PATCH /v1/convai/secrets/{secret_id}   { type: "update", name, value }
//   custom_llm: { url, model_id, api_key: { secret_id }, request_headers: { NAME: string |
//     { secret_id } | { variable_name } }, api_type: "chat_completions" | "responses" }
// With api_type "responses" ElevenLabs calls `POST {url}/responses` (OpenAI's Responses API);
// the chat function serves both doors on the same turn core.
// Unclear in the docs: protocol notes (and older posts) name the extra-body switch
// `platform_settings.overrides.conversation_initiation_client_data_config.custom_llm_extra_body`,
// but the generated request model types `platform_settings.overrides` itself as
// ConversationInitiationClientDataConfig, so the field sits at
// `platform_settings.overrides.custom_llm_extra_body`; that documented shape is what we send.

import { join } from 'node:path';
import { ELEVENLABS_API_BASE_URL, ElevenLabsClient } from '../../shared/elevenlabs/client';
import { OUTPUT_KEYS, readStackOutputs, requireOutput, type StackOutputs } from '../stack-outputs';
import { loadStageConfig } from '../stage-config';

/** Header ElevenLabs fills per conversation; the chat function reads it to find the session. */
export const CONVERSATION_ID_HEADER = 'X-Conversation-Id';
export const CONVERSATION_ID_VARIABLE = 'system__conversation_id';

export class AgentSetupError extends Error {
  override name = 'AgentSetupError';
}

/** The two request formats an ElevenLabs custom LLM can speak; the chat function serves both. */
export const CUSTOM_LLM_API_TYPES = ['chat_completions', 'responses'] as const;
export type CustomLlmApiType = (typeof CUSTOM_LLM_API_TYPES)[number];

/** CUSTOM_LLM_API_TYPE: "chat_completions" (ElevenLabs' default) unless set; anything else is refused. */
export function chooseApiType(explicit: string | undefined): CustomLlmApiType {
  const value = explicit?.trim();
  if (!value) return 'chat_completions';
  const known = CUSTOM_LLM_API_TYPES.find((t) => t === value);
  if (known) return known;
  throw new AgentSetupError(
    `CUSTOM_LLM_API_TYPE is "${value}"; set it to "chat_completions" (the default) or "responses"`,
  );
}

/** The workspace secret holding a stage's chat key; one per stage, so stages never share a key. */
export function chatKeySecretName(stage: string): string {
  return `elevenlabs-vision-${stage}-chat-api-key`;
}

export function buildCreateSecretBody(
  name: string,
  value: string,
): { type: 'new'; name: string; value: string } {
  return { type: 'new', name, value };
}

export function buildUpdateSecretBody(
  name: string,
  value: string,
): { type: 'update'; name: string; value: string } {
  return { type: 'update', name, value };
}

/** The id of the workspace secret called `name` in a `GET /v1/convai/secrets` answer. */
export function findSecretId(listResponse: unknown, name: string): string | undefined {
  const secrets = (listResponse as { secrets?: unknown } | null)?.secrets;
  if (!Array.isArray(secrets)) return undefined;
  for (const s of secrets) {
    const entry = s as { name?: unknown; secret_id?: unknown };
    if (entry.name === name && typeof entry.secret_id === 'string') return entry.secret_id;
  }
  return undefined;
}

export interface AgentPatchInput {
  chatServerUrl: string;
  modelId: string;
  chatKeySecretId: string;
  apiType?: CustomLlmApiType;
  /** The agent's current `platform_settings.overrides`, kept so other overrides survive. */
  currentOverrides?: Record<string, unknown> | undefined;
}

export interface AgentPatchBody {
  conversation_config: {
    agent: {
      prompt: {
        llm: 'custom-llm';
        custom_llm: {
          url: string;
          model_id: string;
          api_key: { secret_id: string };
          request_headers: Record<string, { variable_name: string }>;
          api_type: CustomLlmApiType;
        };
      };
    };
  };
  platform_settings: { overrides: Record<string, unknown> & { custom_llm_extra_body: true } };
}

export function buildAgentPatch(input: AgentPatchInput): AgentPatchBody {
  return {
    conversation_config: {
      agent: {
        prompt: {
          llm: 'custom-llm',
          custom_llm: {
            url: input.chatServerUrl,
            model_id: input.modelId,
            api_key: { secret_id: input.chatKeySecretId },
            request_headers: { [CONVERSATION_ID_HEADER]: { variable_name: CONVERSATION_ID_VARIABLE } },
            api_type: input.apiType ?? 'chat_completions',
          },
        },
      },
    },
    platform_settings: { overrides: { ...(input.currentOverrides ?? {}), custom_llm_extra_body: true } },
  };
}

interface AgentView {
  prompt?: { prompt?: unknown; llm?: unknown; custom_llm?: { url?: unknown; api_type?: unknown } };
  overrides?: Record<string, unknown>;
}

function viewAgent(agent: unknown): AgentView {
  const a = agent as {
    conversation_config?: { agent?: { prompt?: AgentView['prompt'] } };
    platform_settings?: { overrides?: unknown };
  } | null;
  const overrides = a?.platform_settings?.overrides;
  return {
    ...(a?.conversation_config?.agent?.prompt ? { prompt: a.conversation_config.agent.prompt } : {}),
    ...(overrides && typeof overrides === 'object' && !Array.isArray(overrides)
      ? { overrides: overrides as Record<string, unknown> }
      : {}),
  };
}

/**
 * Checks the agent as the PATCH returned it: our settings took, and the system prompt survived
 * (a PATCH that replaced the whole prompt object would have dropped it).
 */
export function verifyPatchedAgent(
  before: unknown,
  after: unknown,
  expectedUrl: string,
  expectedApiType: CustomLlmApiType = 'chat_completions',
): string[] {
  const problems: string[] = [];
  const b = viewAgent(before);
  const a = viewAgent(after);
  if (a.prompt?.llm !== 'custom-llm')
    problems.push(`llm is ${JSON.stringify(a.prompt?.llm)}, not "custom-llm"`);
  if (a.prompt?.custom_llm?.url !== expectedUrl) {
    problems.push(`custom_llm.url is ${JSON.stringify(a.prompt?.custom_llm?.url)}, not ${expectedUrl}`);
  }
  // An API that does not echo api_type is not a failure; one that reports another value is.
  const apiType = a.prompt?.custom_llm?.api_type;
  if (apiType !== undefined && apiType !== expectedApiType) {
    problems.push(`custom_llm.api_type is ${JSON.stringify(apiType)}, not "${expectedApiType}"`);
  }
  if (a.overrides?.custom_llm_extra_body !== true)
    problems.push('the custom_llm_extra_body override is not enabled');
  const hadPrompt = typeof b.prompt?.prompt === 'string' && b.prompt.prompt !== '';
  if (hadPrompt && a.prompt?.prompt !== b.prompt?.prompt) {
    problems.push('the system prompt changed; restore it in the ElevenLabs dashboard');
  }
  return problems;
}

export type Fetch = typeof fetch;

/** Operations requests can be slow (agent PATCHes); the run-time default is for browser calls. */
const OPERATIONS_TIMEOUT_MS = 30_000;

export interface ConfigureAgentInput {
  stage: string;
  agentId: string;
  chatServerUrl: string;
  chatApiKey: string;
  modelId: string;
  apiType?: CustomLlmApiType;
}

export interface ConfigureAgentResult {
  secretId: string;
  secretAction: 'created' | 'updated';
  problems: string[];
}

/** GET the agent (fails early on a wrong id), store the key, PATCH the agent, verify. */
export async function configureAgent(
  client: ElevenLabsClient,
  input: ConfigureAgentInput,
): Promise<ConfigureAgentResult> {
  const agentPath = `/v1/convai/agents/${encodeURIComponent(input.agentId)}`;
  const notFound = `ElevenLabs agent "${input.agentId}" was not found: check ELEVENLABS_AGENT_ID (or elevenLabsAgentId in infra/stages/${input.stage}.json) and that the API key belongs to its workspace`;
  const before = await client.request('GET', agentPath, undefined, notFound);

  const name = chatKeySecretName(input.stage);
  const existingId = findSecretId(await client.request('GET', '/v1/convai/secrets'), name);
  let secretId: string;
  let secretAction: ConfigureAgentResult['secretAction'];
  if (existingId) {
    await client.request(
      'PATCH',
      `/v1/convai/secrets/${encodeURIComponent(existingId)}`,
      buildUpdateSecretBody(name, input.chatApiKey),
    );
    secretId = existingId;
    secretAction = 'updated';
  } else {
    const created = (await client.request(
      'POST',
      '/v1/convai/secrets',
      buildCreateSecretBody(name, input.chatApiKey),
    )) as {
      secret_id?: unknown;
    } | null;
    if (typeof created?.secret_id !== 'string') {
      throw new AgentSetupError('ElevenLabs created the secret but returned no secret_id');
    }
    secretId = created.secret_id;
    secretAction = 'created';
  }

  const patch = buildAgentPatch({
    chatServerUrl: input.chatServerUrl,
    modelId: input.modelId,
    chatKeySecretId: secretId,
    ...(input.apiType ? { apiType: input.apiType } : {}),
    currentOverrides: viewAgent(before).overrides,
  });
  const after = await client.request('PATCH', agentPath, patch, notFound);
  return {
    secretId,
    secretAction,
    problems: verifyPatchedAgent(before, after, input.chatServerUrl, input.apiType),
  };
}

/**
 * The model name ElevenLabs sends as `model`: explicit, else the stage's first named route.
 * With only pass-through (`*`) routes the name reaches the provider, so it must be a real model.
 */
export function chooseModelId(
  explicit: string | undefined,
  modelRoutes: Record<string, unknown> | undefined,
): string {
  if (explicit?.trim()) return explicit.trim();
  const named = Object.keys(modelRoutes ?? {}).find((name) => name !== '*');
  if (named) return named;
  throw new AgentSetupError(
    'set CUSTOM_LLM_MODEL to the model name ElevenLabs should send (e.g. gpt-4o): the stage routes every name straight to the provider',
  );
}

export interface RunConfigureAgentDeps {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  projectRoot: string;
  /** CHAT_API_KEY from the stage's LLM secret (Secrets Manager in the script, a fake in tests). */
  readChatApiKey: (llmSecretArn: string) => Promise<string>;
  /** Stack outputs; defaults to cdk.out/outputs-<stage>.json, then CloudFormation. */
  readOutputs?: (stage: string) => Promise<StackOutputs>;
  fetch?: Fetch;
  log: (line: string) => void;
}

/** The whole `make agent` flow with its I/O injected; resolves to a process exit code. */
export async function runConfigureAgent(deps: RunConfigureAgentDeps): Promise<number> {
  const stage = deps.argv[0];
  if (!stage || deps.argv.length > 1)
    throw new AgentSetupError('usage: tsx scripts/configure-agent.ts <stage>');
  const { env } = deps;
  const apiKey = env.ELEVENLABS_API_KEY?.trim();
  if (!apiKey) throw new AgentSetupError('ELEVENLABS_API_KEY is not set (export it in this shell)');
  const config = loadStageConfig(stage, join(deps.projectRoot, 'infra', 'stages'));
  const agentId = env.ELEVENLABS_AGENT_ID?.trim() || config.elevenLabsAgentId;
  if (!agentId) {
    throw new AgentSetupError(
      `ELEVENLABS_AGENT_ID is not set and infra/stages/${stage}.json has no elevenLabsAgentId`,
    );
  }
  const modelId = chooseModelId(env.CUSTOM_LLM_MODEL, config.modelRoutes);
  const apiType = chooseApiType(env.CUSTOM_LLM_API_TYPE);

  const outputs = deps.readOutputs
    ? await deps.readOutputs(stage)
    : (await readStackOutputs(stage, { projectRoot: deps.projectRoot })).outputs;
  const chatServerUrl = requireOutput(outputs, OUTPUT_KEYS.chatServerUrl, stage);
  const chatApiKey = await deps.readChatApiKey(requireOutput(outputs, OUTPUT_KEYS.llmSecretArn, stage));

  const base = env.ELEVENLABS_API_BASE?.trim() || ELEVENLABS_API_BASE_URL;
  const client = new ElevenLabsClient({
    apiKey,
    baseUrl: base,
    timeoutMs: OPERATIONS_TIMEOUT_MS,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });
  const result = await configureAgent(client, {
    stage,
    agentId,
    chatServerUrl,
    chatApiKey,
    modelId,
    apiType,
  });

  deps.log(`workspace secret ${chatKeySecretName(stage)} ${result.secretAction} (${result.secretId})`);
  deps.log(
    `agent ${agentId}: custom LLM ${chatServerUrl} (model "${modelId}", api_type ${apiType}), ${CONVERSATION_ID_HEADER} header, extra body on`,
  );
  for (const problem of result.problems) deps.log(`warning: ${problem}`);
  return result.problems.length === 0 ? 0 : 1;
}

/** Pulls CHAT_API_KEY out of the LLM secret's JSON. */
export function chatApiKeyFromSecret(secretString: string | undefined): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString ?? '');
  } catch {
    throw new AgentSetupError('the LLM secret does not hold JSON; run `make secrets` to repair it');
  }
  const key = (parsed as Record<string, unknown> | null)?.CHAT_API_KEY;
  if (typeof key !== 'string' || key === '') {
    throw new AgentSetupError(
      'the LLM secret has no CHAT_API_KEY; rotate it with `tsx scripts/secrets.ts <stage> --rotate-chat-key`',
    );
  }
  return key;
}
