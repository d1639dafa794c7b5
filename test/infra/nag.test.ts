// cdk-nag's AwsSolutions pack finds nothing unacknowledged, and every acknowledgement says why.
import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { synthStage } from './helpers';

const PROD = {
  allowedOrigins: ['https://app.example.com'],
  auth: { mode: 'anonymous' },
  elevenLabsAgentId: 'agent_1',
  tracing: true,
};

function acknowledgements(root: IConstruct): { path: string; id: string; reason: string }[] {
  const out: { path: string; id: string; reason: string }[] = [];
  for (const node of root.node.findAll()) {
    for (const entry of node.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      // Recorded as { [ruleId]: reason }.
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        out.push({ path: node.node.path, id: id.replace(/^Annotation::/, ''), reason });
      }
    }
  }
  return out;
}

test.each([
  ['dev', { elevenLabsAgentId: 'agent_1' }],
  ['prod', PROD],
])('%s: zero unacknowledged AwsSolutions findings', (stage, file) => {
  const { stack } = synthStage(stage, file);
  const report = new AwsSolutionsChecks().validateScope(stack);
  expect(
    report.violations.map(
      (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    ),
  ).toEqual([]);
  expect(report.success).toBe(true);
});

test('every acknowledgement is scoped to one construct and explains itself', () => {
  const { stack } = synthStage('prod', PROD);
  const acks = acknowledgements(stack);
  expect(acks.length).toBeGreaterThan(0);
  for (const ack of acks) {
    expect(ack.path).not.toBe(stack.node.path);
    expect(ack.reason.length).toBeGreaterThan(80);
  }
  expect(acks.map((a) => a.id).sort()).toEqual(
    [
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-L1',
      'AwsSolutions-L1',
      'AwsSolutions-L1',
      'AwsSolutions-L1',
      'AwsSolutions-SMG4',
      'AwsSolutions-SMG4',
      'AwsSolutions-SMG4',
      // The generate function's failure queue is itself the dead-letter queue.
      'AwsSolutions-SQS3',
      ...[
        'images/', // chat
        'images/', // sessions
        'uploads/', // sessions
        'uploads/', // uploads
        'images/', // uploads
        'images/', // generate
      ].map((p) => `AwsSolutions-IAM5[Resource::<${idOfBucket(stack)}.Arn>/${p}*]`),
    ].sort(),
  );
});

test('a new wildcard grant is caught: the checks are live, not blanket-suppressed', () => {
  const { stack } = synthStage('dev', { elevenLabsAgentId: 'agent_1' });
  stack.chat.role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }),
  );
  const report = new AwsSolutionsChecks().validateScope(stack);
  expect(report.success).toBe(false);
  expect(report.violations.map((v) => v.ruleName)).toContain('AwsSolutions-IAM5[Resource::*]');
});

function idOfBucket(stack: ReturnType<typeof synthStage>['stack']): string {
  return stack.resolve(stack.getLogicalId(stack.storage.bucket.node.defaultChild as never)) as string;
}
