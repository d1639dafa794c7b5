// The stack's contract, resource by resource: function URLs, runtime and sizing, environment
// (names present, no secret values), IAM per function, bucket, tables, secrets, outputs.
import { Match } from 'aws-cdk-lib/assertions';
import { NOTIFICATIONS_HANDLER_ID } from '../../infra/constructs/storage';
import { GENERATE_TABLE_ACTIONS, TABLE_ITEM_ACTIONS } from '../../infra/stack';
import { logicalId, pairs, rolePermissions, type Synthesized, synthStage } from './helpers';

const AGENT = 'agent_0123456789';
const PROD_FILE = {
  allowedOrigins: ['https://app.example.com', 'https://admin.example.com'],
  elevenLabsAgentId: AGENT,
  auth: {
    mode: 'jwt',
    issuer: 'https://auth.example.com/',
    audience: 'vision-api',
    jwksUrl: 'https://auth.example.com/.well-known/jwks.json',
  },
  modelRoutes: { 'vision-fast': ['openai:gpt-4o-mini', 'anthropic:claude-haiku-4-5'], '*': ['openai:*'] },
  compatibleProviders: { groq: { baseURL: 'https://api.groq.com/openai/v1', apiKeyEnv: 'GROQ_API_KEY' } },
  limits: {
    sessionTtlSeconds: 3 * 86_400,
    maxUploadBytes: 5_000_000,
    imageMaxLongEdge: 2048,
    imageMaxPixels: 2_000_000,
    maxImagesPerSession: 12,
    rateLimits: { uploadsPerIpPerMinute: 30 },
  },
  reservedConcurrency: { chat: 80, sessions: 20, uploads: null },
  logRetentionDays: 90,
};

let dev: Synthesized;
let prod: Synthesized;

beforeAll(() => {
  dev = synthStage('dev', { elevenLabsAgentId: AGENT });
  prod = synthStage('prod', PROD_FILE);
});

function fnProps(
  s: Synthesized,
  name: 'chat' | 'sessions' | 'uploads' | 'generate',
): Record<string, unknown> {
  const resources = s.template.findResources('AWS::Lambda::Function');
  const props = resources[logicalId(s.stack[name].fn)]?.Properties;
  if (!props) throw new Error(`no ${name} function`);
  return props as Record<string, unknown>;
}

function envOf(s: Synthesized, name: 'chat' | 'sessions' | 'uploads' | 'generate'): Record<string, unknown> {
  return (fnProps(s, name).Environment as { Variables: Record<string, unknown> }).Variables;
}

function urlOf(s: Synthesized, name: 'chat' | 'sessions' | 'uploads' | 'generate'): Record<string, unknown> {
  const urls = s.template.findResources('AWS::Lambda::Url', {
    Properties: { TargetFunctionArn: { 'Fn::GetAtt': [logicalId(s.stack[name].fn), 'Arn'] } },
  });
  const list = Object.values(urls);
  expect(list).toHaveLength(1);
  return list[0]!.Properties as Record<string, unknown>;
}

describe('function URLs', () => {
  test('chat streams, is public (bearer-checked by the handler) and has no CORS', () => {
    expect(urlOf(dev, 'chat')).toEqual({
      AuthType: 'NONE',
      InvokeMode: 'RESPONSE_STREAM',
      TargetFunctionArn: { 'Fn::GetAtt': [logicalId(dev.stack.chat.fn), 'Arn'] },
    });
  });

  test.each(['sessions', 'uploads'] as const)(
    '%s is buffered with CORS for the allowed origins only',
    (name) => {
      for (const [s, origins] of [
        [dev, ['http://localhost:5173', 'http://localhost:8787']],
        [prod, PROD_FILE.allowedOrigins],
      ] as const) {
        expect(urlOf(s, name)).toEqual({
          AuthType: 'NONE',
          InvokeMode: 'BUFFERED',
          TargetFunctionArn: { 'Fn::GetAtt': [logicalId(s.stack[name].fn), 'Arn'] },
          Cors: {
            AllowOrigins: origins,
            AllowMethods: ['GET', 'POST', 'DELETE'],
            AllowHeaders: ['content-type', 'authorization', 'x-session-secret'],
            MaxAge: 3600,
          },
        });
      }
    },
  );

  test('each public URL carries exactly the two function-URL permissions, nothing broader', () => {
    // The seventh lets S3 invoke uploads for this bucket's notifications (asserted under "bucket").
    const permissions = Object.values(dev.template.findResources('AWS::Lambda::Permission'))
      .map((p) => p.Properties)
      .filter((p) => p.Principal !== 's3.amazonaws.com');
    expect(permissions).toHaveLength(6);
    for (const name of ['chat', 'sessions', 'uploads'] as const) {
      const arn = { 'Fn::GetAtt': [logicalId(dev.stack[name].fn), 'Arn'] };
      const mine = permissions.filter((p) => JSON.stringify(p.FunctionName) === JSON.stringify(arn));
      expect(mine).toEqual(
        expect.arrayContaining([
          {
            Action: 'lambda:InvokeFunctionUrl',
            FunctionName: arn,
            FunctionUrlAuthType: 'NONE',
            Principal: '*',
          },
          { Action: 'lambda:InvokeFunction', FunctionName: arn, InvokedViaFunctionUrl: true, Principal: '*' },
        ]),
      );
      expect(mine).toHaveLength(2);
    }
  });
});

describe('functions', () => {
  test.each([
    ['chat', 1024, 300, 50],
    ['sessions', 512, 15, 10],
    ['uploads', 1536, 60, 10],
  ] as const)(
    '%s: Node 22 on arm64, %d MB, %d s, reserved concurrency %d',
    (name, memory, timeout, reserved) => {
      const props = fnProps(dev, name);
      expect(props).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        MemorySize: memory,
        Timeout: timeout,
        ReservedConcurrentExecutions: reserved,
        Handler: 'index.handler',
        LoggingConfig: { LogGroup: { Ref: logicalId(dev.stack[name].logGroup) } },
        Role: { 'Fn::GetAtt': [logicalId(dev.stack[name].role), 'Arn'] },
      });
      // No fixed physical names: two stages never collide in one account.
      expect(props.FunctionName).toBeUndefined();
      expect(props.TracingConfig).toBeUndefined();
    },
  );

  test('reserved concurrency follows the stage file; null leaves a function unreserved', () => {
    expect(fnProps(prod, 'chat').ReservedConcurrentExecutions).toBe(80);
    expect(fnProps(prod, 'sessions').ReservedConcurrentExecutions).toBe(20);
    expect(fnProps(prod, 'uploads').ReservedConcurrentExecutions).toBeUndefined();
  });

  test('X-Ray tracing is opt-in per stage', () => {
    const traced = synthStage('dev', { elevenLabsAgentId: AGENT, tracing: true });
    for (const name of ['chat', 'sessions', 'uploads'] as const) {
      expect(fnProps(traced, name).TracingConfig).toEqual({ Mode: 'Active' });
    }
  });

  test('log groups keep logs for the configured days, have derived names and follow the removal policy', () => {
    for (const [s, days, policy] of [
      [dev, 30, 'Delete'],
      [prod, 90, 'Retain'],
    ] as const) {
      const groups = s.template.findResources('AWS::Logs::LogGroup');
      // One per function (chat, sessions, uploads, generate), and one for CDK's bucket-notifications handler.
      expect(Object.keys(groups)).toHaveLength(5);
      for (const group of Object.values(groups)) {
        expect(group.Properties).toEqual({ RetentionInDays: days });
        expect(group.DeletionPolicy).toBe(policy);
      }
    }
  });

  test('execution roles trust Lambda only and carry no managed policies', () => {
    const roles = dev.template.findResources('AWS::IAM::Role');
    for (const name of ['chat', 'sessions', 'uploads', 'generate'] as const) {
      const role = roles[logicalId(dev.stack[name].role)]!;
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
      ]);
    }
  });
});

describe('environment', () => {
  const ref = (c: Parameters<typeof logicalId>[0]) => ({ Ref: logicalId(c) });

  test('chat: tables, bucket, LLM secret ARN, routes, strict bearer key', () => {
    const s = prod;
    expect(envOf(s, 'chat')).toEqual({
      STAGE: 'prod',
      SESSIONS_TABLE: ref(s.stack.storage.sessionsTable),
      CONTROL_TABLE: ref(s.stack.storage.controlTable),
      IMAGES_BUCKET: ref(s.stack.storage.bucket),
      LLM_SECRET_ARN: ref(s.stack.secrets.llm),
      MODEL_ROUTES: JSON.stringify(PROD_FILE.modelRoutes),
      COMPATIBLE_PROVIDERS: JSON.stringify(PROD_FILE.compatibleProviders),
      LOG_LEVEL: 'info',
      REQUIRE_CHAT_API_KEY: 'true',
      ALLOW_ECHO: 'false',
      // Images inside messages are held to the same limits as uploads.
      MAX_UPLOAD_BYTES: '5000000',
      IMAGE_MAX_LONG_EDGE: '2048',
      IMAGE_MAX_PIXELS: '2000000',
      ...imageAsking(s),
    });
  });

  /** What chat and sessions need to ask for images: the settings, the image keys, the job function. */
  const imageAsking = (s: Synthesized) => ({
    ...imageSettings(s),
    GENERATE_FUNCTION_NAME: ref(s.stack.generate.fn),
  });
  const imageSettings = (s: Synthesized) => ({
    IMAGE_GENERATION: 'false',
    IMAGE_SECRET_ARN: ref(s.stack.secrets.image),
    IMAGE_AUTO_APPROVE_USD: '0.02',
    IMAGE_LIMIT_PER_SESSION: '20',
    IMAGE_LIMIT_PER_USER_PER_HOUR: '10',
    IMAGE_MAX_USD_PER_USER_PER_DAY: '2',
  });

  test('generate: storage, image settings and limits, the image secret; no chat or ElevenLabs settings', () => {
    const s = prod;
    expect(envOf(s, 'generate')).toEqual({
      STAGE: 'prod',
      SESSIONS_TABLE: ref(s.stack.storage.sessionsTable),
      CONTROL_TABLE: ref(s.stack.storage.controlTable),
      IMAGES_BUCKET: ref(s.stack.storage.bucket),
      LOG_LEVEL: 'info',
      ...imageSettings(s),
      MAX_UPLOAD_BYTES: '5000000',
      IMAGE_MAX_LONG_EDGE: '2048',
      IMAGE_MAX_PIXELS: '2000000',
    });
  });

  test('a stage turns image generation on and sets its limits', () => {
    const s = synthStage('dev', {
      elevenLabsAgentId: AGENT,
      imageGeneration: { enabled: true, autoApproveUsd: 0.05, perUserPerHour: 3 },
    });
    for (const name of ['chat', 'sessions', 'generate'] as const)
      expect(envOf(s, name)).toMatchObject({
        IMAGE_GENERATION: 'true',
        IMAGE_AUTO_APPROVE_USD: '0.05',
        IMAGE_LIMIT_PER_USER_PER_HOUR: '3',
      });
    expect(envOf(s, 'uploads').IMAGE_GENERATION).toBeUndefined();
  });

  /** What both browser-facing functions read through their shared config loader. */
  const browser = (s: Synthesized) => ({
    STAGE: 'prod',
    SESSIONS_TABLE: ref(s.stack.storage.sessionsTable),
    CONTROL_TABLE: ref(s.stack.storage.controlTable),
    IMAGES_BUCKET: ref(s.stack.storage.bucket),
    ALLOWED_ORIGINS: 'https://app.example.com,https://admin.example.com',
    AUTH_MODE: 'jwt',
    JWT_ISSUER: 'https://auth.example.com/',
    JWT_AUDIENCE: 'vision-api',
    JWT_JWKS_URL: 'https://auth.example.com/.well-known/jwks.json',
    SESSION_TTL_SECONDS: String(3 * 86_400),
    MAX_UPLOAD_BYTES: '5000000',
    IMAGE_MAX_LONG_EDGE: '2048',
    IMAGE_MAX_PIXELS: '2000000',
    MAX_IMAGES_PER_SESSION: '12',
    RATE_LIMIT_SESSIONS_PER_IP_PER_MINUTE: '10',
    RATE_LIMIT_UPLOADS_PER_IP_PER_MINUTE: '30',
    RATE_LIMIT_REQUESTS_PER_IP_PER_MINUTE: '120',
    LOG_LEVEL: 'info',
  });

  test('sessions: the browser settings plus the ElevenLabs secret ARN, agent id and uploads URL', () => {
    const s = prod;
    expect(envOf(s, 'sessions')).toEqual({
      ...browser(s),
      ELEVENLABS_SECRET_ARN: ref(s.stack.secrets.elevenLabs),
      ELEVENLABS_AGENT_ID: AGENT,
      UPLOADS_URL: { 'Fn::GetAtt': [logicalId(s.stack.uploadsUrl), 'FunctionUrl'] },
      ...imageAsking(s),
    });
  });

  test('uploads: the browser settings only, nothing about ElevenLabs', () => {
    expect(envOf(prod, 'uploads')).toEqual(browser(prod));
  });

  test('anonymous stages leave the JWT settings empty and may allow the echo provider', () => {
    const s = synthStage('dev', { elevenLabsAgentId: AGENT, allowEcho: true });
    expect(envOf(s, 'sessions')).toMatchObject({
      AUTH_MODE: 'anonymous',
      JWT_ISSUER: '',
      JWT_AUDIENCE: '',
      JWT_JWKS_URL: '',
    });
    // Unset limits are left to the functions' own defaults.
    expect(envOf(s, 'uploads').MAX_IMAGES_PER_SESSION).toBeUndefined();
    expect(envOf(s, 'chat')).toMatchObject({
      ALLOW_ECHO: 'true',
      MODEL_ROUTES: '',
      COMPATIBLE_PROVIDERS: '',
    });
  });

  test('no secret value anywhere in the template: secrets are referenced by ARN only', () => {
    for (const s of [dev, prod]) {
      const json = JSON.stringify(s.template.toJSON());
      expect(json).not.toMatch(/sk-[A-Za-z0-9]/);
      for (const name of ['chat', 'sessions', 'uploads', 'generate'] as const) {
        const names = Object.keys(envOf(s, name));
        for (const secretName of [
          'CHAT_API_KEY',
          'OPENAI_API_KEY',
          'ANTHROPIC_API_KEY',
          'GEMINI_API_KEY',
          'ELEVENLABS_API_KEY',
          'GROQ_API_KEY',
          'TOGETHER_API_KEY',
          'REPLICATE_API_TOKEN',
        ]) {
          expect(names).not.toContain(secretName);
        }
        // Every env value is a literal setting or a reference; none is a secret's value.
        for (const value of Object.values(envOf(s, name))) {
          expect(JSON.stringify(value)).not.toMatch(/SecretString|resolve:secretsmanager/);
        }
      }
      const secrets = s.template.findResources('AWS::SecretsManager::Secret');
      expect(Object.keys(secrets)).toHaveLength(3);
      expect(secrets[logicalId(s.stack.secrets.llm)]!.Properties.GenerateSecretString).toEqual({
        SecretStringTemplate: '{}',
        GenerateStringKey: 'CHAT_API_KEY',
        ExcludePunctuation: true,
        PasswordLength: 48,
      });
      expect(secrets[logicalId(s.stack.secrets.llm)]!.Properties.SecretString).toBeUndefined();
      expect(secrets[logicalId(s.stack.secrets.elevenLabs)]!.Properties.SecretString).toBe('{}');
      expect(secrets[logicalId(s.stack.secrets.image)]!.Properties.SecretString).toBe('{}');
    }
  });
});

describe('IAM: each function gets exactly what it needs', () => {
  const tables = (s: Synthesized) => [
    `${logicalId(s.stack.storage.sessionsTable)}.Arn`,
    `${logicalId(s.stack.storage.controlTable)}.Arn`,
  ];
  const under = (s: Synthesized, prefix: string) => `${logicalId(s.stack.storage.bucket)}.Arn/${prefix}*`;
  const logs = (s: Synthesized, name: 'chat' | 'sessions' | 'uploads' | 'generate') =>
    pairs(['logs:CreateLogStream', 'logs:PutLogEvents'], [`${logicalId(s.stack[name].logGroup)}.Arn`]);
  const secretRead = (id: string) =>
    pairs(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], [id]);

  test('chat: tables, images/ read+write+delete, the LLM secret, its log group', () => {
    const s = dev;
    expect(rolePermissions(s.template, logicalId(s.stack.chat.role))).toEqual(
      [
        ...logs(s, 'chat'),
        ...pairs(TABLE_ITEM_ACTIONS, tables(s)),
        ...pairs(['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], [under(s, 'images/')]),
        ...secretRead(logicalId(s.stack.secrets.llm)),
        ...startsJobs(s),
      ].sort(),
    );
  });

  /** Chat and sessions: invoke the generate function (unqualified, nothing else), read the image keys. */
  const startsJobs = (s: Synthesized) => [
    ...pairs(['lambda:InvokeFunction'], [`${logicalId(s.stack.generate.fn)}.Arn`]),
    ...secretRead(logicalId(s.stack.secrets.image)),
  ];

  test('generate: its two tables with exactly its calls, images/ get+put+delete, the image secret, the DLQ', () => {
    const s = dev;
    expect(rolePermissions(s.template, logicalId(s.stack.generate.role))).toEqual(
      [
        ...logs(s, 'generate'),
        ...pairs(GENERATE_TABLE_ACTIONS.sessions, [`${logicalId(s.stack.storage.sessionsTable)}.Arn`]),
        ...pairs(GENERATE_TABLE_ACTIONS.control, [`${logicalId(s.stack.storage.controlTable)}.Arn`]),
        ...pairs(['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], [under(s, 'images/')]),
        ...secretRead(logicalId(s.stack.secrets.image)),
        // Lambda sends events that failed every retry to the on-failure queue with the function's role.
        ...pairs(
          ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
          [`${logicalId(s.stack.generateFailures)}.Arn`],
        ),
      ].sort(),
    );
    const text = rolePermissions(s.template, logicalId(s.stack.generate.role)).join('\n');
    expect(text).not.toContain(logicalId(s.stack.secrets.llm));
    expect(text).not.toContain(logicalId(s.stack.secrets.elevenLabs));
    expect(text).not.toContain('uploads/');
  });

  test('generate: 3 minutes, reserved concurrency 5, two retries then the SSL-only encrypted failure queue', () => {
    const s = dev;
    expect(fnProps(s, 'generate')).toMatchObject({
      Timeout: 180,
      MemorySize: 1536,
      ReservedConcurrentExecutions: 5,
    });
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(s.stack.generate.fn) },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 600,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(s.stack.generateFailures), 'Arn'] } },
      },
    });
    s.template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
    });
    // Only chat and sessions may start it: no function URL, no resource policy for anyone else.
    expect(
      Object.values(s.template.findResources('AWS::Lambda::Url'))
        .map((u) => JSON.stringify(u))
        .join(),
    ).not.toContain(logicalId(s.stack.generate.fn));
    expect(
      Object.values(s.template.findResources('AWS::Lambda::Permission'))
        .map((p) => JSON.stringify(p))
        .join(),
    ).not.toContain(logicalId(s.stack.generate.fn));
  });

  test('sessions: tables, delete under images/ and uploads/, the ElevenLabs secret, its log group', () => {
    const s = dev;
    expect(rolePermissions(s.template, logicalId(s.stack.sessions.role))).toEqual(
      [
        ...logs(s, 'sessions'),
        ...pairs(TABLE_ITEM_ACTIONS, tables(s)),
        ...pairs(['s3:DeleteObject'], [under(s, 'images/'), under(s, 'uploads/')]),
        // GET /sessions/{id}/generations/{gid} presigns a GET of the generated image.
        ...pairs(['s3:GetObject'], [under(s, 'images/')]),
        ...secretRead(logicalId(s.stack.secrets.elevenLabs)),
        ...startsJobs(s),
      ].sort(),
    );
  });

  // DeleteObject on uploads/ and GetItem on the sessions table also cover the bucket notification
  // (a late upload's image looked up, the object removed): that adds no grant.
  test('uploads: tables, uploads/ and images/ put+get+delete, listing uploads/ only, no secret at all', () => {
    const s = dev;
    const bucket = `${logicalId(s.stack.storage.bucket)}.Arn`;
    expect(rolePermissions(s.template, logicalId(s.stack.uploads.role))).toEqual(
      [
        ...logs(s, 'uploads'),
        ...pairs(TABLE_ITEM_ACTIONS, tables(s)),
        ...pairs(
          ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'],
          [under(s, 'uploads/'), under(s, 'images/')],
        ),
        ...pairs(['s3:ListBucket'], [bucket]),
      ].sort(),
    );
    // The listing grant is limited to keys under uploads/ (so a missing upload is a 404, not a 403).
    const statements = Object.values(s.template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as { Action: unknown; Condition?: unknown }[],
    );
    const list = statements.filter((st) => st.Action === 's3:ListBucket');
    expect(list).toHaveLength(1);
    expect(list[0]!.Condition).toEqual({ StringLike: { 's3:prefix': ['uploads/*'] } });
  });

  test('secrets are split: chat never reads the ElevenLabs key, sessions never the provider keys', () => {
    const s = dev;
    const llm = logicalId(s.stack.secrets.llm);
    const eleven = logicalId(s.stack.secrets.elevenLabs);
    const chat = rolePermissions(s.template, logicalId(s.stack.chat.role)).join('\n');
    const sessions = rolePermissions(s.template, logicalId(s.stack.sessions.role)).join('\n');
    const uploads = rolePermissions(s.template, logicalId(s.stack.uploads.role)).join('\n');
    expect(chat).not.toContain(eleven);
    expect(sessions).not.toContain(llm);
    expect(uploads).not.toMatch(/secretsmanager:/);
    // No wildcard resource and no Scan anywhere in the functions' policies.
    for (const text of [chat, sessions, uploads]) {
      expect(text).not.toMatch(/ \*$/m);
      expect(text).not.toContain('dynamodb:Scan');
    }
  });

  test('with tracing on, only the X-Ray write actions are added (on "*", as AWS requires)', () => {
    const traced = synthStage('dev', { elevenLabsAgentId: AGENT, tracing: true });
    const chat = rolePermissions(traced.template, logicalId(traced.stack.chat.role));
    const starred = chat.filter((p) => p.endsWith(' *'));
    expect(starred).toEqual(['xray:PutTelemetryRecords *', 'xray:PutTraceSegments *']);
  });
});

describe('bucket', () => {
  test('private, encrypted, SSL-only, owner-enforced, unversioned, access-logged', () => {
    const bucket = dev.template.findResources('AWS::S3::Bucket')[logicalId(dev.stack.storage.bucket)]!;
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: {
        DestinationBucketName: { Ref: logicalId(dev.stack.storage.accessLogBucket) },
        LogFilePrefix: 'images-bucket/',
      },
    });
    expect(bucket.Properties.VersioningConfiguration).toBeUndefined();
    expect(bucket.Properties.BucketName).toBeUndefined();
    dev.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(dev.stack.storage.bucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Principal: { AWS: '*' },
          }),
        ]),
      },
    });
  });

  test('objects created under uploads/ (only) invoke the uploads function; S3 may invoke it for this bucket and account only', () => {
    for (const s of [dev, prod]) {
      const bucket = logicalId(s.stack.storage.bucket);
      const uploadsArn = { 'Fn::GetAtt': [logicalId(s.stack.uploads.fn), 'Arn'] };
      const notifications = Object.values(s.template.findResources('Custom::S3BucketNotifications'));
      expect(notifications).toHaveLength(1);
      expect(notifications[0]!.Properties).toMatchObject({
        BucketName: { Ref: bucket },
        Managed: true,
        NotificationConfiguration: {
          LambdaFunctionConfigurations: [
            {
              Events: ['s3:ObjectCreated:*'],
              Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'uploads/' }] } },
              LambdaFunctionArn: uploadsArn,
            },
          ],
        },
      });
      expect(notifications[0]!.Properties.NotificationConfiguration.TopicConfigurations).toBeUndefined();
      expect(notifications[0]!.Properties.NotificationConfiguration.QueueConfigurations).toBeUndefined();
      const fromS3 = Object.values(s.template.findResources('AWS::Lambda::Permission'))
        .map((p) => p.Properties)
        .filter((p) => p.Principal === 's3.amazonaws.com');
      expect(fromS3).toEqual([
        {
          Action: 'lambda:InvokeFunction',
          FunctionName: uploadsArn,
          Principal: 's3.amazonaws.com',
          SourceAccount: { Ref: 'AWS::AccountId' },
          SourceArn: { 'Fn::GetAtt': [bucket, 'Arn'] },
        },
      ]);
    }
  });

  test("CDK's notifications handler: no managed policy; it writes this bucket's notification configuration and its own log group, nothing else", () => {
    const s = dev;
    const handler = s.stack.node.findChild(NOTIFICATIONS_HANDLER_ID);
    const role = logicalId(handler.node.findChild('Role'));
    expect(s.template.findResources('AWS::IAM::Role')[role]!.Properties.ManagedPolicyArns).toBeUndefined();
    const logs = Object.keys(s.template.findResources('AWS::Logs::LogGroup')).find((id) =>
      id.startsWith('StorageNotificationsHandlerLogs'),
    )!;
    expect(rolePermissions(s.template, role)).toEqual(
      [
        `s3:PutBucketNotification ${logicalId(s.stack.storage.bucket)}.Arn`,
        ...pairs(['logs:CreateLogStream', 'logs:PutLogEvents'], [`${logs}.Arn`]),
      ].sort(),
    );
    const fn = s.template.findResources('AWS::Lambda::Function')[logicalId(handler)]!;
    expect(fn.Properties.LoggingConfig).toEqual({ LogGroup: { Ref: logs } });
    expect(fn.Properties.Role).toEqual({ 'Fn::GetAtt': [role, 'Arn'] });
  });

  test('CORS allows POST (presigned uploads) from the allowed origins only', () => {
    const bucket = prod.template.findResources('AWS::S3::Bucket')[logicalId(prod.stack.storage.bucket)]!;
    expect(bucket.Properties.CorsConfiguration).toEqual({
      CorsRules: [
        {
          AllowedMethods: ['POST'],
          AllowedOrigins: PROD_FILE.allowedOrigins,
          AllowedHeaders: ['*'],
          ExposedHeaders: ['ETag', 'Location'],
          MaxAge: 3600,
        },
      ],
    });
  });

  test('lifecycle: uploads/ after 1 day, images/ after at least the session TTL, multipart aborted', () => {
    const rules = (s: Synthesized) =>
      s.template.findResources('AWS::S3::Bucket')[logicalId(s.stack.storage.bucket)]!.Properties
        .LifecycleConfiguration.Rules;
    expect(rules(dev)).toEqual([
      { Id: 'expire-raw-uploads', Prefix: 'uploads/', ExpirationInDays: 1, Status: 'Enabled' },
      { Id: 'expire-normalized-images', Prefix: 'images/', ExpirationInDays: 1, Status: 'Enabled' },
      {
        Id: 'abort-incomplete-multipart',
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        Status: 'Enabled',
      },
    ]);
    // Prod sessions live 3 days, so its images do too.
    expect(rules(prod)[1]).toEqual({
      Id: 'expire-normalized-images',
      Prefix: 'images/',
      ExpirationInDays: 3,
      Status: 'Enabled',
    });
  });

  test('the access-log bucket is private, encrypted and expires its logs', () => {
    const logs = dev.template.findResources('AWS::S3::Bucket')[logicalId(dev.stack.storage.accessLogBucket)]!;
    expect(logs.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: {
        Rules: expect.arrayContaining([
          { Id: 'expire-access-logs', ExpirationInDays: 30, Status: 'Enabled' },
        ]),
      },
    });
  });

  test('non-prod buckets are emptied and deleted with the stack; prod buckets are retained', () => {
    const buckets = (s: Synthesized) => Object.values(s.template.findResources('AWS::S3::Bucket'));
    for (const b of buckets(dev)) expect(b.DeletionPolicy).toBe('Delete');
    expect(Object.keys(dev.template.findResources('Custom::S3AutoDeleteObjects'))).toHaveLength(2);
    for (const b of buckets(prod)) expect(b.DeletionPolicy).toBe('Retain');
    expect(Object.keys(prod.template.findResources('Custom::S3AutoDeleteObjects'))).toHaveLength(0);
  });
});

describe('tables', () => {
  test.each(['sessionsTable', 'controlTable'] as const)(
    '%s: on-demand, pk/sk strings, TTL on ttl, PITR, encrypted',
    (key) => {
      for (const [s, policy] of [
        [dev, 'Delete'],
        [prod, 'Retain'],
      ] as const) {
        const table = s.template.findResources('AWS::DynamoDB::Table')[logicalId(s.stack.storage[key])]!;
        expect(table.Properties).toEqual({
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: { SSEEnabled: true },
        });
        expect(table.DeletionPolicy).toBe(policy);
      }
    },
  );
});

describe('stack', () => {
  test('outputs: the exact ElevenLabs server URL (function URL + "v1"), API, app and uploads URLs, bucket, secrets', () => {
    const s = dev;
    const outputs = s.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs).sort()).toEqual(
      [
        'ApiUrl',
        'AppUrl',
        'BucketName',
        'ChatServerUrl',
        'ElevenLabsSecretArn',
        'ImageSecretArn',
        'LlmSecretArn',
        'UploadsUrl',
      ].sort(),
    );
    // The sessions function serves the app: the same URL as the API, so the page needs no CORS for it.
    expect(outputs.AppUrl!.Value).toEqual({ 'Fn::GetAtt': [logicalId(s.stack.apiUrl), 'FunctionUrl'] });
    expect(outputs.ChatServerUrl!.Value).toEqual({
      'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(s.stack.chatUrl), 'FunctionUrl'] }, 'v1']],
    });
    expect(outputs.ApiUrl!.Value).toEqual({ 'Fn::GetAtt': [logicalId(s.stack.apiUrl), 'FunctionUrl'] });
    expect(outputs.UploadsUrl!.Value).toEqual({
      'Fn::GetAtt': [logicalId(s.stack.uploadsUrl), 'FunctionUrl'],
    });
    expect(outputs.BucketName!.Value).toEqual({ Ref: logicalId(s.stack.storage.bucket) });
    expect(outputs.LlmSecretArn!.Value).toEqual({ Ref: logicalId(s.stack.secrets.llm) });
    expect(outputs.ElevenLabsSecretArn!.Value).toEqual({ Ref: logicalId(s.stack.secrets.elevenLabs) });
    expect(outputs.ImageSecretArn!.Value).toEqual({ Ref: logicalId(s.stack.secrets.image) });
  });

  test('prod stacks are termination-protected; dev stacks are not', () => {
    expect(prod.stack.terminationProtection).toBe(true);
    expect(dev.stack.terminationProtection).toBe(false);
  });

  test('environment-agnostic: synth needs no account or region', () => {
    expect(dev.stack.environment).toBe('aws://unknown-account/unknown-region');
  });

  test('an oversized routes table fails at synth with a precise message', () => {
    const routes: Record<string, string[]> = {};
    for (let i = 0; i < 120; i++) routes[`model-${i}`] = ['openai:gpt-4o-mini'];
    expect(() => synthStage('dev', { modelRoutes: routes }, 'infra/stages/dev.json')).toThrow(
      /infra\/stages\/dev.json: modelRoutes, compatibleProviders, allowedOrigins and auth take \d+ bytes/,
    );
  });
});
