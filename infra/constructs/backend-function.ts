// One Lambda function as this project runs them: Node 22 on arm64, ESM bundle, its own role
// (no managed policies: it may write only to its own log group) and a log group with retention.
import { join } from 'node:path';
import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { FunctionEnvironment, FunctionName } from '../environment';
import { functionBundling } from './bundling';

/** Supplies ready-made code instead of bundling (unit tests, or prebuilt artifacts). */
export type FunctionCodeOverride = (name: FunctionName) => lambda.Code;

export interface BackendFunctionProps {
  name: FunctionName;
  description: string;
  /** Repository root: holds package-lock.json and functions/. */
  projectRoot: string;
  /** Folder with one `<name>/handler.ts` per function. */
  entriesRoot: string;
  code?: FunctionCodeOverride;
  memorySize: number;
  timeout: Duration;
  reservedConcurrency: number | null;
  environment: FunctionEnvironment;
  nativeModules: readonly string[];
  logRetentionDays: number;
  removalPolicy: RemovalPolicy;
  tracing: boolean;
}

export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_22_X;
export const FUNCTION_ARCHITECTURE = lambda.Architecture.ARM_64;

export function entryPath(entriesRoot: string, name: FunctionName): string {
  return join(entriesRoot, name, 'handler.ts');
}

export class BackendFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: BackendFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: props.removalPolicy,
    });

    // A role of its own instead of AWSLambdaBasicExecutionRole: that managed policy may create
    // and write any log group in the account; this one writes to a single, pre-created group.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${props.name} function`,
    });
    this.logGroup.grantWrite(this.role);

    const common = {
      description: props.description,
      runtime: FUNCTION_RUNTIME,
      architecture: FUNCTION_ARCHITECTURE,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      environment: props.environment,
      tracing: props.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      ...(props.reservedConcurrency !== null
        ? { reservedConcurrentExecutions: props.reservedConcurrency }
        : {}),
    };

    this.fn = props.code
      ? new NodejsFunction(this, 'Function', {
          ...common,
          code: props.code(props.name),
          handler: 'index.handler',
        })
      : new NodejsFunction(this, 'Function', {
          ...common,
          entry: entryPath(props.entriesRoot, props.name),
          handler: 'handler',
          projectRoot: props.projectRoot,
          depsLockFilePath: join(props.projectRoot, 'package-lock.json'),
          bundling: functionBundling({
            nativeModules: props.nativeModules,
            name: props.name,
            entry: entryPath(props.entriesRoot, props.name),
          }),
        });
  }
}
