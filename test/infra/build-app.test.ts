// The app as `make synth` builds it: stage from context, stage file, entry checks, cdk-nag on.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp, cdkJsonContext, missingEntries } from '../../infra/build-app';
import { INLINE_CODE, PROJECT_ROOT } from './helpers';

const PHYSICAL_NAMES: Record<string, string> = {
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::IAM::Role': 'RoleName',
};

test('several stages live side by side: distinct stack names, no fixed resource names', () => {
  const names = ['dev', 'staging', 'alice'].map((stage) => {
    const { stack } = buildApp({ projectRoot: PROJECT_ROOT, context: { stage }, functionCode: INLINE_CODE });
    const template = Template.fromStack(stack);
    for (const [type, nameProperty] of Object.entries(PHYSICAL_NAMES)) {
      const resources = Object.values(template.findResources(type));
      expect(resources.length).toBeGreaterThan(0);
      for (const r of resources) expect(r.Properties?.[nameProperty]).toBeUndefined();
    }
    return stack.stackName;
  });
  expect(names).toEqual(['elevenlabs-vision-dev', 'elevenlabs-vision-staging', 'elevenlabs-vision-alice']);
});

test('the stage defaults to dev and the stack carries project and stage tags', () => {
  const { stack, config } = buildApp({ projectRoot: PROJECT_ROOT, functionCode: INLINE_CODE });
  expect(config.stage).toBe('dev');
  // Stack-level tags: CloudFormation propagates them to every resource.
  expect(stack.tags.tagValues()).toEqual({ project: 'elevenlabs-vision', stage: 'dev' });
});

test('cdk.json feature flags reach the app even without the CLI', () => {
  const context = cdkJsonContext(PROJECT_ROOT);
  expect(context['@aws-cdk/aws-lambda-nodejs:sdkV3ExcludeSmithyPackages']).toBe(true);
  const { app } = buildApp({ projectRoot: PROJECT_ROOT, functionCode: INLINE_CODE });
  expect(app.node.tryGetContext('@aws-cdk/aws-iam:minimizePolicies')).toBe(true);
});

test('a non-string stage and missing entries fail with plain messages', () => {
  expect(() =>
    buildApp({ projectRoot: PROJECT_ROOT, context: { stage: 3 }, functionCode: INLINE_CODE }),
  ).toThrow('context "stage" must be a string (cdk -c stage=dev), got 3');
  const empty = mkdtempSync(join(tmpdir(), 'entries-'));
  expect(missingEntries(empty)).toEqual(
    ['chat', 'sessions', 'uploads', 'generate'].map((n) => join(empty, n, 'handler.ts')),
  );
  expect(() => buildApp({ projectRoot: PROJECT_ROOT, entriesRoot: empty })).toThrow(
    /^cannot bundle: function entries are missing:\n {2}- .*chat\/handler.ts\n/,
  );
});
