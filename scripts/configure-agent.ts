// `make agent STAGE=dev`: points an existing ElevenLabs agent at the deployed stage. Needs
// ELEVENLABS_API_KEY and ELEVENLABS_AGENT_ID (or the stage file's elevenLabsAgentId) in the
// environment, AWS credentials to read the chat key, and the outputs `make deploy` wrote.
// ELEVENLABS_API_BASE overrides the API host (tests); CUSTOM_LLM_MODEL the model name sent;
// CUSTOM_LLM_API_TYPE=responses makes the agent call /responses instead of /chat/completions.
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { chatApiKeyFromSecret, runConfigureAgent } from '../infra/operations/elevenlabs-agent';
import { createSecretsManagerClient } from '../shared/storage/aws-clients';

const secrets = await createSecretsManagerClient();
try {
  process.exitCode = await runConfigureAgent({
    argv: process.argv.slice(2),
    env: process.env,
    projectRoot: process.cwd(),
    readChatApiKey: async (arn) =>
      chatApiKeyFromSecret((await secrets.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString),
    log: (line) => process.stdout.write(`${line}\n`),
  });
} catch (err) {
  process.stderr.write(`agent: ${(err as Error).message}\n`);
  process.exitCode = 1;
} finally {
  secrets.destroy();
}
