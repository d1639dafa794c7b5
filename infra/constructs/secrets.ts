// Three Secrets Manager secrets, split for least privilege: the chat function reads the LLM
// secret (provider keys and the chat bearer key), the sessions function the ElevenLabs one, and
// the image secret (image provider keys) is read by chat, sessions and generate, which never see
// the chat key or the ElevenLabs key through it.
// No secret value appears in the template; `make secrets` fills them in after the first deploy.
import { type RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** The key inside the LLM secret that holds the bearer key ElevenLabs sends to the chat function. */
export const CHAT_API_KEY_FIELD = 'CHAT_API_KEY';

export interface SecretsProps {
  removalPolicy: RemovalPolicy;
  stage: string;
}

export class Secrets extends Construct {
  /** JSON object whose keys are env-var names: CHAT_API_KEY, OPENAI_API_KEY, ... */
  readonly llm: secretsmanager.Secret;
  /** JSON object {"ELEVENLABS_API_KEY": ...}. */
  readonly elevenLabs: secretsmanager.Secret;
  /** JSON object {"OPENAI_API_KEY": ..., "TOGETHER_API_KEY": ..., "REPLICATE_API_TOKEN": ...}. */
  readonly image: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: SecretsProps) {
    super(scope, id);

    // Secrets Manager generates the chat key at create time, so every stack has a random
    // bearer key from its first deploy and the value never passes through CloudFormation.
    this.llm = new secretsmanager.Secret(this, 'LlmSecret', {
      description: `elevenlabs-vision ${props.stage}: chat bearer key and LLM provider API keys (JSON)`,
      generateSecretString: {
        secretStringTemplate: '{}',
        generateStringKey: CHAT_API_KEY_FIELD,
        excludePunctuation: true,
        passwordLength: 48,
      },
      removalPolicy: props.removalPolicy,
    });

    // Starts as an empty JSON object (no secret in it); the sessions function reports a missing
    // key clearly until `make secrets` stores one. CloudFormation leaves later values alone.
    this.elevenLabs = new secretsmanager.Secret(this, 'ElevenLabsSecret', {
      description: `elevenlabs-vision ${props.stage}: ElevenLabs API key (JSON)`,
      secretStringValue: SecretValue.unsafePlainText('{}'),
      removalPolicy: props.removalPolicy,
    });

    this.image = new secretsmanager.Secret(this, 'ImageSecret', {
      description: `elevenlabs-vision ${props.stage}: image provider API keys (JSON)`,
      secretStringValue: SecretValue.unsafePlainText('{}'),
      removalPolicy: props.removalPolicy,
    });
  }
}
