// cdk-nag (AwsSolutions) findings this design accepts, each acknowledged on the one construct it
// concerns with the reason it is acceptable. Anything not listed here fails `make synth`.
import { Stack, Validations } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import { BUCKET_PREFIXES } from '../shared/storage/schema';
import type { BackendFunction } from './constructs/backend-function';
import type { VisionBackendStack } from './stack';

/** The finding id cdk-nag reports for a bucket-prefix wildcard, e.g. `<StorageImagesX.Arn>/images/*`. */
function prefixWildcardId(bucket: s3.IBucket, prefix: string): string {
  const stack = Stack.of(bucket);
  const logicalId = stack.resolve(stack.getLogicalId(bucket.node.defaultChild as never)) as string;
  return `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${prefix}*]`;
}

function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

export function applyNagSuppressions(stack: VisionBackendStack): void {
  const { bucket } = stack.storage;
  const objectsUnder = (fn: BackendFunction, prefix: string, why: string) =>
    acknowledge(
      fn.role,
      prefixWildcardId(bucket, prefix),
      `Object keys under ${prefix} are per-session and per-image ids created at run time, so the grant is scoped to the prefix, never the whole bucket; ${why}`,
    );

  objectsUnder(
    stack.chat,
    BUCKET_PREFIXES.images,
    'chat reads the session images it puts in prompts and stores images that arrive inside messages',
  );
  objectsUnder(
    stack.sessions,
    BUCKET_PREFIXES.images,
    "DELETE /sessions/{id} deletes the session's normalized images (DeleteObject only)",
  );
  objectsUnder(
    stack.sessions,
    BUCKET_PREFIXES.uploads,
    'DELETE /sessions/{id} deletes raw uploads that were never completed (DeleteObject only)',
  );
  objectsUnder(
    stack.uploads,
    BUCKET_PREFIXES.uploads,
    'uploads presigns browser POSTs into a new key, then reads and deletes that raw upload',
  );
  objectsUnder(
    stack.uploads,
    BUCKET_PREFIXES.images,
    'uploads writes the normalized image and reads it back for its metadata',
  );

  objectsUnder(
    stack.generate,
    BUCKET_PREFIXES.images,
    'the image job reads an image it edits and writes the generated original and its normalized copy',
  );

  for (const fn of [stack.chat, stack.sessions, stack.uploads, stack.generate]) {
    acknowledge(
      fn.fn,
      'AwsSolutions-L1',
      'Node.js 22 is pinned on purpose: package.json engines, the tests, the local dev host and the bundled sharp linux-arm64 binaries all target Node 22; moving to a newer runtime is one deliberate upgrade of all of them.',
    );
    if (stack.config.tracing) {
      // CDK adds these (on "*") only when the stage enables tracing.
      acknowledge(
        fn.role,
        'AwsSolutions-IAM5[Resource::*]',
        'X-Ray tracing is enabled for this stage: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so AWS requires "*".',
      );
    }
  }

  acknowledge(
    stack.secrets.llm,
    'AwsSolutions-SMG4',
    'Holds third-party API keys (OpenAI, Anthropic, Gemini, ...) that only their issuers can rotate, plus the chat bearer key that must change in ElevenLabs at the same moment; rotation is the manual `make secrets` + `make agent` procedure in docs/deploying.md.',
  );
  acknowledge(
    stack.generateFailures,
    'AwsSolutions-SQS3',
    "This queue is itself the dead-letter destination: the generate function's on-failure destination for asynchronous invocations that failed every retry.",
  );
  acknowledge(
    stack.secrets.image,
    'AwsSolutions-SMG4',
    'Holds third-party image provider keys (OpenAI, Together, Replicate, ...) that only their issuers can rotate; rotated manually with `make secrets` (docs/deploying.md).',
  );
  acknowledge(
    stack.secrets.elevenLabs,
    'AwsSolutions-SMG4',
    'Holds the ElevenLabs API key, which only ElevenLabs can issue; a Lambda rotation function cannot create a new one. Rotated manually with `make secrets` (docs/deploying.md).',
  );
}
