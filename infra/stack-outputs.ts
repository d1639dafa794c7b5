// The stack's outputs: their names (shared by the stack and the operator scripts) and how the
// scripts find their values after a deploy, without an AWS SDK for CloudFormation.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stackNameFor } from './stage-config';

export const OUTPUT_KEYS = {
  chatServerUrl: 'ChatServerUrl',
  apiUrl: 'ApiUrl',
  uploadsUrl: 'UploadsUrl',
  appUrl: 'AppUrl',
  bucketName: 'BucketName',
  llmSecretArn: 'LlmSecretArn',
  elevenLabsSecretArn: 'ElevenLabsSecretArn',
  imageSecretArn: 'ImageSecretArn',
} as const;

export type OutputKey = (typeof OUTPUT_KEYS)[keyof typeof OUTPUT_KEYS];
export type StackOutputs = Partial<Record<OutputKey, string>>;

export class StackOutputsError extends Error {
  override name = 'StackOutputsError';
}

const KNOWN = new Set<string>(Object.values(OUTPUT_KEYS));

function pickKnown(entries: Iterable<[string, unknown]>): StackOutputs {
  const out: StackOutputs = {};
  for (const [key, value] of entries) {
    if (KNOWN.has(key) && typeof value === 'string') out[key as OutputKey] = value;
  }
  return out;
}

/** `cdk deploy --outputs-file` writes `{ "<stack name>": { "<OutputKey>": "<value>" } }`. */
export function parseOutputsFile(json: unknown, stackName: string): StackOutputs | undefined {
  if (json === null || typeof json !== 'object') return undefined;
  const stack = (json as Record<string, unknown>)[stackName];
  if (stack === null || typeof stack !== 'object') return undefined;
  return pickKnown(Object.entries(stack as Record<string, unknown>));
}

/** `aws cloudformation describe-stacks --output json`: `{ Stacks: [{ Outputs: [{ OutputKey, OutputValue }] }] }`. */
export function parseDescribeStacks(json: unknown): StackOutputs | undefined {
  const stacks = (json as { Stacks?: unknown } | null)?.Stacks;
  if (!Array.isArray(stacks) || stacks.length === 0) return undefined;
  const outputs = (stacks[0] as { Outputs?: unknown }).Outputs;
  if (!Array.isArray(outputs)) return {};
  return pickKnown(
    outputs.map((o): [string, unknown] => [
      String((o as { OutputKey?: unknown }).OutputKey),
      (o as { OutputValue?: unknown }).OutputValue,
    ]),
  );
}

export function outputsFilePath(projectRoot: string, stage: string): string {
  return join(projectRoot, 'cdk.out', `outputs-${stage}.json`);
}

export interface ReadOutputsOptions {
  projectRoot: string;
  /** Runs the AWS CLI; injectable for tests. Resolves to its stdout. */
  describeStack?: (stackName: string) => Promise<string>;
}

async function awsCliDescribeStack(stackName: string): Promise<string> {
  const { stdout } = await promisify(execFile)(
    'aws',
    ['cloudformation', 'describe-stacks', '--stack-name', stackName, '--output', 'json'],
    { timeout: 30_000 },
  );
  return stdout;
}

/**
 * The outputs of a deployed stage: from `cdk.out/outputs-<stage>.json` (written by `make
 * deploy`), else from CloudFormation through the AWS CLI.
 */
export async function readStackOutputs(
  stage: string,
  options: ReadOutputsOptions,
): Promise<{ outputs: StackOutputs; source: string }> {
  const stackName = stackNameFor(stage);
  const file = outputsFilePath(options.projectRoot, stage);
  let fileProblem = `${file} does not exist`;
  if (existsSync(file)) {
    const parsed = parseOutputsFile(JSON.parse(readFileSync(file, 'utf8')), stackName);
    if (parsed && Object.keys(parsed).length > 0) return { outputs: parsed, source: file };
    fileProblem = `${file} has no outputs for ${stackName}`;
  }
  const describe = options.describeStack ?? awsCliDescribeStack;
  let stdout: string;
  try {
    stdout = await describe(stackName);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    const why =
      e.code === 'ENOENT' ? 'the AWS CLI is not installed' : (e.stderr?.trim() || e.message).split('\n')[0];
    throw new StackOutputsError(
      `no outputs for stage "${stage}": ${fileProblem}, and CloudFormation could not be asked (${why}). Run \`make deploy STAGE=${stage}\` first, with AWS credentials for the account.`,
    );
  }
  const parsed = parseDescribeStacks(JSON.parse(stdout));
  if (!parsed)
    throw new StackOutputsError(`stack ${stackName} was not found; run \`make deploy STAGE=${stage}\``);
  return { outputs: parsed, source: `CloudFormation stack ${stackName}` };
}

export function requireOutput(outputs: StackOutputs, key: OutputKey, stage: string): string {
  const value = outputs[key];
  if (!value) {
    throw new StackOutputsError(
      `output ${key} is missing for stage "${stage}"; redeploy with \`make deploy STAGE=${stage}\``,
    );
  }
  return value;
}
