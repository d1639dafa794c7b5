// A loopback stand-in for Secrets Manager that speaks its JSON protocol (POST / with
// X-Amz-Target: secretsmanager.GetSecretValue), so the functions' own cold-start code reads
// their keys through the real SDK client exactly as on AWS (AWS_ENDPOINT_URL_SECRETS_MANAGER).
// GetSecretValue is the only call the functions make; anything else gets the service's error.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SecretsStandIn {
  endpoint: string;
  /** GetSecretValue calls answered, by secret ARN. */
  reads: Map<string, number>;
  /** When each secret was first answered (performance.now(), the host events' clock). */
  firstReadAt: Map<string, number>;
  /** Replaces a secret's value (a rotation, or `make secrets`). */
  put(arn: string, value: string): void;
  close(): Promise<void>;
}

export async function startSecretsStandIn(initial: Record<string, string>): Promise<SecretsStandIn> {
  const secrets = new Map(Object.entries(initial));
  const reads = new Map<string, number>();
  const firstReadAt = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(value));
      };
      const target = req.headers['x-amz-target'];
      if (req.method !== 'POST' || target !== 'secretsmanager.GetSecretValue') {
        return reply(400, {
          __type: 'UnknownOperationException',
          message: `the local Secrets Manager stand-in answers only GetSecretValue, not ${String(target)}`,
        });
      }
      let secretId: unknown;
      try {
        secretId = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { SecretId?: unknown }).SecretId;
      } catch {
        return reply(400, { __type: 'SerializationException', message: 'the request body is not JSON' });
      }
      const arn = typeof secretId === 'string' ? secretId : '';
      const value = secrets.get(arn);
      if (value === undefined) {
        return reply(400, {
          __type: 'ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret.",
        });
      }
      reads.set(arn, (reads.get(arn) ?? 0) + 1);
      if (!firstReadAt.has(arn)) firstReadAt.set(arn, performance.now());
      reply(200, {
        ARN: arn,
        Name: arn.split(':').pop(),
        SecretString: value,
        VersionId: 'local',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 0,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    reads,
    firstReadAt,
    put: (arn, value) => secrets.set(arn, value),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
