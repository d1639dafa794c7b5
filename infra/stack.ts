// One stage of the product: storage, secrets, the three functions with their URLs, and the
// outputs an operator pastes into ElevenLabs and the frontend.
import { Annotations, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  BROWSER_CORS_HEADERS,
  BROWSER_CORS_MAX_AGE_SECONDS,
  BROWSER_CORS_METHODS,
} from '../shared/http/cors';
import { BUCKET_PREFIXES } from '../shared/storage/schema';
import { BackendFunction, type FunctionCodeOverride } from './constructs/backend-function';
import { Secrets } from './constructs/secrets';
import { Storage } from './constructs/storage';
import {
  chatEnvironment,
  configEnvironmentBytes,
  generateEnvironment,
  MAX_CONFIG_ENV_BYTES,
  sessionsEnvironment,
  uploadsEnvironment,
  withImageGeneration,
} from './environment';
import { applyNagSuppressions } from './nag';
import { OUTPUT_KEYS } from './stack-outputs';
import { type StageConfig, StageConfigError } from './stage-config';

export interface VisionBackendStackProps extends StackProps {
  config: StageConfig;
  /** Repository root (package-lock.json lives there). */
  projectRoot: string;
  /** Folder holding `<function>/handler.ts` (functions/ in the repository). */
  entriesRoot: string;
  /** Skips bundling with ready-made code (unit tests). */
  functionCode?: FunctionCodeOverride;
}

/** The sessions and uploads functions' CORS (configured only here on AWS; shared/http/cors.ts). */
const BROWSER_CORS_HTTP_METHODS = BROWSER_CORS_METHODS.map((m) => lambda.HttpMethod[m]);

/**
 * Item-level read/write on the tables. Narrower than `grantReadWriteData`: no Scan and no
 * stream reads; every access path is a key lookup or a partition Query.
 */
export const TABLE_ITEM_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
] as const;

/** Sizing: chat streams long answers and runs sharp on images arriving in messages. */
export const FUNCTION_SIZING = {
  chat: { memorySize: 1024, timeout: Duration.minutes(5) },
  sessions: { memorySize: 512, timeout: Duration.seconds(15) },
  uploads: { memorySize: 1536, timeout: Duration.seconds(60) },
  // One image job: provider calls (IMAGE_JOB_TIMEOUT_MS, 2 min by default) plus storing the result.
  generate: { memorySize: 1536, timeout: Duration.minutes(3) },
} as const;

/**
 * The image job's exact data-plane calls. Sessions table: the generation's conditional updates
 * and reads, the generated image's pending item and content claim (Put/Update/Get), removing both
 * when the store fails (Delete). Control table: the session budget's ADD and the runner's
 * circuit-breaker records (Get/Update/Query).
 */
export const GENERATE_TABLE_ACTIONS = {
  sessions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  control: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
} as const;

export class VisionBackendStack extends Stack {
  readonly config: StageConfig;
  readonly storage: Storage;
  readonly secrets: Secrets;
  readonly chat: BackendFunction;
  readonly sessions: BackendFunction;
  readonly uploads: BackendFunction;
  readonly generate: BackendFunction;
  /** Generation jobs that failed every delivery (Lambda's on-failure destination). */
  readonly generateFailures: sqs.Queue;
  readonly chatUrl: lambda.FunctionUrl;
  readonly apiUrl: lambda.FunctionUrl;
  readonly uploadsUrl: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: VisionBackendStackProps) {
    const { config } = props;
    const retain = config.removalPolicy === 'retain';
    super(scope, id, {
      description: `ElevenLabs vision backend, stage ${config.stage}: Custom LLM chat, sessions and uploads`,
      // A retained stage is one whose data matters: `cdk destroy` must be a deliberate two-step act.
      terminationProtection: retain,
      ...props,
    });
    this.config = config;

    const envBytes = configEnvironmentBytes(config);
    if (envBytes > MAX_CONFIG_ENV_BYTES) {
      throw new StageConfigError(
        `${config.source}: modelRoutes, compatibleProviders, allowedOrigins and auth take ${envBytes} bytes of function environment; Lambda allows 4 KB in total, keep them under ${MAX_CONFIG_ENV_BYTES}`,
      );
    }
    if (!config.elevenLabsAgentId) {
      Annotations.of(this).addWarningV2(
        'vision:elevenLabsAgentIdMissing',
        `${config.source}: elevenLabsAgentId is not set; POST /sessions cannot issue ElevenLabs tokens until it is`,
      );
    }

    const removalPolicy = retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    this.storage = new Storage(this, 'Storage', {
      removalPolicy,
      autoDeleteObjects: !retain,
      allowedOrigins: config.allowedOrigins,
      imageRetentionDays: config.limits.imageRetentionDays,
      accessLogRetentionDays: Math.max(config.logRetentionDays, 30),
      handlerLogRetentionDays: config.logRetentionDays,
    });
    this.secrets = new Secrets(this, 'Secrets', { removalPolicy, stage: config.stage });

    const shared = {
      projectRoot: props.projectRoot,
      entriesRoot: props.entriesRoot,
      code: props.functionCode,
      logRetentionDays: config.logRetentionDays,
      removalPolicy,
      tracing: config.tracing,
    };

    const refs = {
      sessionsTable: this.storage.sessionsTable.tableName,
      controlTable: this.storage.controlTable.tableName,
      bucket: this.storage.bucket.bucketName,
      llmSecretArn: this.secrets.llm.secretArn,
      elevenLabsSecretArn: this.secrets.elevenLabs.secretArn,
      imageSecretArn: this.secrets.image.secretArn,
    };

    // Image jobs, started by chat and sessions with asynchronous invocations. Reserved
    // concurrency bounds the spend of a burst; Lambda retries a failed job twice (the job's claim
    // makes a retry of a claimed job a no-op) and then parks the event in this queue.
    this.generateFailures = new sqs.Queue(this, 'GenerateFailures', {
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
    });
    this.generate = new BackendFunction(this, 'Generate', {
      ...shared,
      name: 'generate',
      description: `elevenlabs-vision ${config.stage}: image generation jobs`,
      ...FUNCTION_SIZING.generate,
      reservedConcurrency: config.reservedConcurrency.generate,
      nativeModules: ['sharp'],
      environment: generateEnvironment(config, refs),
    });
    this.generate.fn.configureAsyncInvoke({
      onFailure: new destinations.SqsDestination(this.generateFailures),
      retryAttempts: 2,
      maxEventAge: Duration.minutes(10),
    });
    const generateName = this.generate.fn.functionName;

    // Uploads comes first: the sessions function tells browsers its URL.
    this.uploads = new BackendFunction(this, 'Uploads', {
      ...shared,
      name: 'uploads',
      description: `elevenlabs-vision ${config.stage}: presigned image uploads, completion and normalization`,
      ...FUNCTION_SIZING.uploads,
      reservedConcurrency: config.reservedConcurrency.uploads,
      nativeModules: ['sharp'],
      environment: uploadsEnvironment(config, refs),
    });
    this.uploadsUrl = this.browserUrl(this.uploads.fn, config.allowedOrigins);
    // A form stays valid for its 300 s after its image is complete: what it still admits is
    // removed on arrival (shared/uploads/late-uploads.ts).
    this.storage.notifyRawUploads(this.uploads.fn);

    this.sessions = new BackendFunction(this, 'Sessions', {
      ...shared,
      name: 'sessions',
      description: `elevenlabs-vision ${config.stage}: sessions and ElevenLabs signed URLs / tokens`,
      ...FUNCTION_SIZING.sessions,
      reservedConcurrency: config.reservedConcurrency.sessions,
      nativeModules: [],
      environment: withImageGeneration(
        sessionsEnvironment(config, refs, this.uploadsUrl.url),
        config,
        refs,
        generateName,
      ),
    });
    this.apiUrl = this.browserUrl(this.sessions.fn, config.allowedOrigins);

    this.chat = new BackendFunction(this, 'Chat', {
      ...shared,
      name: 'chat',
      description: `elevenlabs-vision ${config.stage}: OpenAI-compatible streaming Custom LLM for ElevenLabs`,
      ...FUNCTION_SIZING.chat,
      reservedConcurrency: config.reservedConcurrency.chat,
      nativeModules: ['sharp'],
      environment: withImageGeneration(chatEnvironment(config, refs), config, refs, generateName),
    });
    // ElevenLabs cannot sign requests (SigV4), so the URL is public and the handler checks the
    // bearer key in constant time. Server to server: no CORS.
    this.chatUrl = this.chat.fn.addFunctionUrl({
      authType: lambda.FunctionUrlAuthType.NONE,
      invokeMode: lambda.InvokeMode.RESPONSE_STREAM,
    });

    this.grantAccess();
    this.addOutputs();
    applyNagSuppressions(this);
  }

  /** Browser-facing URL: public (the handler verifies a JWT or runs the anonymous mode), CORS here only. */
  private browserUrl(fn: lambda.IFunction, allowedOrigins: string[]): lambda.FunctionUrl {
    return fn.addFunctionUrl({
      authType: lambda.FunctionUrlAuthType.NONE,
      invokeMode: lambda.InvokeMode.BUFFERED,
      cors: {
        allowedOrigins,
        allowedMethods: BROWSER_CORS_HTTP_METHODS,
        allowedHeaders: [...BROWSER_CORS_HEADERS],
        maxAge: Duration.seconds(BROWSER_CORS_MAX_AGE_SECONDS),
      },
    });
  }

  private grantAccess(): void {
    const { sessionsTable, controlTable, bucket } = this.storage;
    const { uploads, images } = BUCKET_PREFIXES;

    for (const fn of [this.chat, this.sessions, this.uploads]) {
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: [...TABLE_ITEM_ACTIONS],
          resources: [sessionsTable.tableArn, controlTable.tableArn],
        }),
      );
    }

    // chat: reads images it places into prompts, writes images that arrive inside messages (and
    // removes one it wrote when a concurrent turn stored the same image first).
    allowObjects(this.chat.role, bucket, ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], [images]);
    this.secrets.llm.grantRead(this.chat.role);

    // sessions: DELETE /sessions/{id} removes the session's objects.
    allowObjects(this.sessions.role, bucket, ['s3:DeleteObject'], [images, uploads]);
    this.secrets.elevenLabs.grantRead(this.sessions.role);

    // Image generation: chat and sessions may start the generate function (and nothing else) and
    // read the image keys to estimate; sessions presigns GETs of generated images (GetObject).
    for (const fn of [this.chat, this.sessions]) {
      // The unqualified function only (grantInvoke would add every version and alias, ":*").
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['lambda:InvokeFunction'],
          resources: [this.generate.fn.functionArn],
        }),
      );
      this.secrets.image.grantRead(fn.role);
    }
    allowObjects(this.sessions.role, bucket, ['s3:GetObject'], [images]);
    // generate: its generation, the image it adds and the budget it charges (GENERATE_TABLE_ACTIONS),
    // reads an image it edits, writes the original and the normalized copy (and removes them when
    // the store fails), reads the image keys.
    this.generate.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [...GENERATE_TABLE_ACTIONS.sessions],
        resources: [sessionsTable.tableArn],
      }),
    );
    this.generate.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [...GENERATE_TABLE_ACTIONS.control],
        resources: [controlTable.tableArn],
      }),
    );
    allowObjects(this.generate.role, bucket, ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], [images]);
    this.secrets.image.grantRead(this.generate.role);

    // uploads: presigns POSTs into uploads/ (the signer needs PutObject), reads and removes the
    // raw upload, writes the normalized image (and removes one that lost a deduplication race),
    // and removes both when the browser deletes the image (DELETE /sessions/{id}/images/{imageId}).
    allowObjects(this.uploads.role, bucket, ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'], [uploads]);
    allowObjects(this.uploads.role, bucket, ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'], [images]);
    // Without ListBucket, S3 answers 403 instead of 404 for a key that does not exist yet, and a
    // `complete` called before the browser's upload landed would be a 500, not a 409. Listing is
    // limited to the uploads/ prefix.
    this.uploads.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${uploads}*`] } },
      }),
    );
  }

  private addOutputs(): void {
    const out = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    // Function URLs end with "/"; ElevenLabs appends "/chat/completions" to this base.
    out(OUTPUT_KEYS.chatServerUrl, `${this.chatUrl.url}v1`, 'Paste into ElevenLabs: Custom LLM server URL');
    out(OUTPUT_KEYS.apiUrl, this.apiUrl.url, 'Sessions API (browsers)');
    out(OUTPUT_KEYS.uploadsUrl, this.uploadsUrl.url, 'Uploads API (browsers)');
    // The sessions function serves the reference app (web/app) too: same origin as the sessions
    // API. A function URL is known only once created, so its origin joins the stage's
    // allowedOrigins after the first deploy (docs/deploying.md): the uploads URL and the bucket
    // need it, and putting it there automatically would be a dependency cycle.
    out(
      OUTPUT_KEYS.appUrl,
      this.apiUrl.url,
      "Reference web app (add this origin, without the trailing slash, to the stage's allowedOrigins)",
    );
    out(OUTPUT_KEYS.bucketName, this.storage.bucket.bucketName, 'Image bucket');
    out(
      OUTPUT_KEYS.llmSecretArn,
      this.secrets.llm.secretArn,
      'Secret with CHAT_API_KEY and provider keys (make secrets)',
    );
    out(
      OUTPUT_KEYS.elevenLabsSecretArn,
      this.secrets.elevenLabs.secretArn,
      'Secret with ELEVENLABS_API_KEY (make secrets)',
    );
    out(
      OUTPUT_KEYS.imageSecretArn,
      this.secrets.image.secretArn,
      'Secret with image provider keys (make secrets)',
    );
  }
}

function allowObjects(role: iam.IRole, bucket: s3.IBucket, actions: string[], prefixes: string[]): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions,
      resources: prefixes.map((prefix) => bucket.arnForObjects(`${prefix}*`)),
    }),
  );
}
