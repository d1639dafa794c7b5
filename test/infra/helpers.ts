// Builds stacks for the infra tests without bundling (inline code stands in for the bundles)
// and reads IAM policies back as plain "action on resource" pairs.
import { join } from 'node:path';
import { App, type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { cdkJsonContext } from '../../infra/build-app';
import { VisionBackendStack } from '../../infra/stack';
import { resolveStageConfig, stackNameFor } from '../../infra/stage-config';

export const PROJECT_ROOT = join(__dirname, '..', '..');

export const INLINE_CODE = () => lambda.Code.fromInline('export const handler = async () => {};');

export interface Synthesized {
  app: App;
  stack: VisionBackendStack;
  template: Template;
}

/** A stack for `stage` from a stage-file object, checked by cdk-nag like `make synth` does. */
export function synthStage(stage: string, file: unknown, source = `infra/stages/${stage}.json`): Synthesized {
  const app = new App({ context: cdkJsonContext(PROJECT_ROOT), analyticsReporting: false });
  const config = resolveStageConfig(stage, file, source);
  const stack = new VisionBackendStack(app, stackNameFor(stage), {
    config,
    projectRoot: PROJECT_ROOT,
    entriesRoot: join(PROJECT_ROOT, 'functions'),
    functionCode: INLINE_CODE,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, template: Template.fromStack(stack) };
}

export function logicalId(construct: IConstruct): string {
  const stack = Stack.of(construct);
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return stack.resolve(stack.getLogicalId(element)) as string;
}

/** Renders an IAM resource expression: `X.Arn`, `X` (Ref), joins, literals. */
export function renderResource(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if ('Fn::GetAtt' in v) {
    const [id, attr] = v['Fn::GetAtt'] as [string, string];
    return `${id}.${attr}`;
  }
  if ('Ref' in v) return String(v.Ref);
  if ('Fn::Join' in v) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(renderResource).join(sep);
  }
  return JSON.stringify(value);
}

function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** Every allowed `action resource` pair of a role's inline policies, sorted. */
export function rolePermissions(template: Template, roleLogicalId: string): string[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const pairs = new Set<string>();
  for (const policy of Object.values(policies)) {
    const roles = asArray(policy.Properties.Roles as unknown[]).map(renderResource);
    if (!roles.includes(roleLogicalId)) continue;
    for (const statement of policy.Properties.PolicyDocument.Statement as Statement[]) {
      expect(statement.Effect).toBe('Allow');
      for (const action of asArray(statement.Action)) {
        for (const resource of asArray(statement.Resource as unknown))
          pairs.add(`${action} ${renderResource(resource)}`);
      }
    }
  }
  return [...pairs].sort();
}

/** `actions x resources` as sorted pairs, for comparing with rolePermissions. */
export function pairs(actions: readonly string[], resources: readonly string[]): string[] {
  return actions.flatMap((a) => resources.map((r) => `${a} ${r}`));
}
