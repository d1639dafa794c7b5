// How the chat and sessions functions start a generation job on AWS: an asynchronous invocation
// of the generate function (InvocationType Event). Lambda queues the event, retries a failed run
// up to twice (the job's claim makes a retry of a claimed job a no-op) and sends an event that
// keeps failing to the function's on-failure destination (an SQS queue). The call returns once
// Lambda has accepted the event (202), in tens of milliseconds, well inside a voice turn.
import type { GenerationJob } from '../../shared/imagegen/job';
import type { StartJob } from '../../shared/imagegen/service';

export interface LambdaStarterOptions {
  functionName: string;
  region?: string;
  /** Local Lambda host (make dev-lambda): AWS_ENDPOINT_URL_LAMBDA. */
  endpoint?: string;
}

/** The event the generate function receives. */
export type GenerationJobEvent = GenerationJob & { kind: 'generation_job' };

export function isGenerationJobEvent(event: unknown): event is GenerationJobEvent {
  const e = event as Partial<GenerationJobEvent> | null;
  return (
    e?.kind === 'generation_job' && typeof e.sessionId === 'string' && typeof e.generationId === 'string'
  );
}

export function lambdaJobStarter(opts: LambdaStarterOptions): StartJob {
  // The SDK is loaded on the first job: most turns never start one.
  let client: Promise<{ send: (job: GenerationJob) => Promise<void> }> | undefined;
  const load = async () => {
    const { LambdaClient, InvokeCommand } = await import('@aws-sdk/client-lambda');
    const lambda = new LambdaClient({
      ...(opts.region ? { region: opts.region } : {}),
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      maxAttempts: 2,
    });
    return {
      send: async (job: GenerationJob) => {
        const event: GenerationJobEvent = { kind: 'generation_job', ...job };
        const out = await lambda.send(
          new InvokeCommand({
            FunctionName: opts.functionName,
            InvocationType: 'Event',
            Payload: new TextEncoder().encode(JSON.stringify(event)),
          }),
        );
        if (out.StatusCode !== 202)
          throw new Error(`Lambda answered ${out.StatusCode} to an Event invocation`);
      },
    };
  };
  return async (job) => {
    client ??= load().catch((err: unknown) => {
      client = undefined;
      throw err;
    });
    await (await client).send(job);
  };
}
