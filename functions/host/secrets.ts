// Reads a Secrets Manager secret (a JSON object of VARIABLE_NAME -> value) once per container
// and overlays it on the environment, so keys never sit in the template or in plain env vars.

export type EnvMap = Record<string, string | undefined>;

/** Pure: overlays the secret's string values on the environment. */
export function overlaySecret(env: EnvMap, secretString: string, secretName: string): EnvMap {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw new Error(`secret ${secretName} is not a JSON object of NAME -> value`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`secret ${secretName} is not a JSON object of NAME -> value`);
  }
  const out: EnvMap = { ...env };
  for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string' && v !== '') out[k] = v;
  return out;
}

/** Loads every secret named by the given ARN variables (unset ones are skipped). */
export async function loadEnvWithSecrets(env: EnvMap, arnVariables: string[]): Promise<EnvMap> {
  const arns = arnVariables.map((v) => env[v]).filter((a): a is string => !!a);
  if (arns.length === 0) return env;
  // Loaded only where a secret is configured: local runs and tests never evaluate this SDK.
  const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({});
  try {
    let out = env;
    for (const arn of arns) {
      const res = await client.send(new GetSecretValueCommand({ SecretId: arn }));
      out = overlaySecret(out, res.SecretString ?? '{}', arn.split(':').pop() ?? 'secret');
    }
    return out;
  } finally {
    client.destroy();
  }
}
