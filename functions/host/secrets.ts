// Reads a Secrets Manager secret (a JSON object of VARIABLE_NAME -> value) once per container
// and overlays it on the environment, so keys never sit in the template or in plain env vars.
import type { Env } from '../../shared/env-vars';
import { createSecretsManagerClient } from '../../shared/storage/aws-clients';

/** Pure: overlays the secret's string values on the environment. */
export function overlaySecret(env: Env, secretString: string, secretName: string): Env {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw new Error(`secret ${secretName} is not a JSON object of NAME -> value`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`secret ${secretName} is not a JSON object of NAME -> value`);
  }
  const out: Record<string, string | undefined> = { ...env };
  for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string' && v !== '') out[k] = v;
  return out;
}

/** A secret's raw JSON text, by ARN. */
export type SecretReader = (arn: string) => Promise<string>;

let sharedReader: SecretReader | undefined;

/** Secrets Manager, loaded only where a secret is configured (local runs never evaluate it). */
async function secretsManagerReader(): Promise<SecretReader> {
  if (sharedReader) return sharedReader;
  const [{ GetSecretValueCommand }, client] = await Promise.all([
    import('@aws-sdk/client-secrets-manager'),
    createSecretsManagerClient(),
  ]);
  sharedReader = async (arn) =>
    (await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString ?? '{}';
  return sharedReader;
}

/** The raw texts of every secret named by the given ARN variables (unset ones are skipped). */
export async function readSecrets(
  env: Env,
  arnVariables: string[],
  read?: SecretReader,
): Promise<{ arn: string; text: string }[]> {
  const arns = arnVariables.map((v) => env[v]).filter((a): a is string => !!a);
  if (arns.length === 0) return [];
  const reader = read ?? (await secretsManagerReader());
  return Promise.all(arns.map(async (arn) => ({ arn, text: await reader(arn) })));
}
