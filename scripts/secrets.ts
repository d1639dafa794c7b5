// `make secrets STAGE=dev`: stores provider, ElevenLabs, image and chat keys in the stage's three Secrets
// Manager secrets. Values come from your shell (or a hidden prompt when there are none) and are
// merged into the secrets' JSON; keys already stored are kept. Prints names, never values.
//
//   tsx scripts/secrets.ts <stage> [--rotate-chat-key] [--remove NAME]...
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-secrets-manager';
import { runSecrets, type SecretStore, SecretsScriptError } from '../infra/operations/secrets';
import { OUTPUT_KEYS, readStackOutputs, requireOutput } from '../infra/stack-outputs';
import { createSecretsManagerClient } from '../shared/storage/aws-clients';

/** Reads a line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stdout.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          done();
          reject(new SecretsScriptError('cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    const done = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stdout.write('\n');
    };
    stdin.on('data', onData);
  });
}

async function main(): Promise<void> {
  const client = await createSecretsManagerClient();
  const projectRoot = process.cwd();
  const store: SecretStore = {
    async read(arn) {
      try {
        return (await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString;
      } catch (err) {
        if (err instanceof ResourceNotFoundException)
          throw new SecretsScriptError(`secret ${arn} does not exist: was the stack destroyed?`);
        throw err;
      }
    },
    async write(arn, value) {
      await client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: value }));
    },
  };
  try {
    await runSecrets(process.argv.slice(2), {
      env: process.env,
      projectRoot,
      store,
      secretArns: async (stage) => {
        const { outputs } = await readStackOutputs(stage, { projectRoot });
        return {
          llm: requireOutput(outputs, OUTPUT_KEYS.llmSecretArn, stage),
          elevenLabs: requireOutput(outputs, OUTPUT_KEYS.elevenLabsSecretArn, stage),
          image: requireOutput(outputs, OUTPUT_KEYS.imageSecretArn, stage),
        };
      },
      ...(process.stdin.isTTY ? { prompt: promptHidden } : {}),
      log: (line) => process.stdout.write(`${line}\n`),
    });
  } catch (err) {
    process.stderr.write(`secrets: ${(err as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    client.destroy();
  }
}

await main();
