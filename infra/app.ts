// CDK entry point (cdk.json: "npx tsx infra/app.ts"). Run from the repository root:
// `make synth STAGE=dev`, or `cdk -c stage=dev synth`.
import { buildApp } from './build-app';
import { StageConfigError } from './stage-config';

try {
  buildApp({ projectRoot: process.cwd() }).app.synth();
} catch (err) {
  // Configuration mistakes get a plain message, not a stack trace through CDK internals.
  if (err instanceof StageConfigError) {
    process.stderr.write(`\n${err.message}\n\n`);
    process.exit(1);
  }
  throw err;
}
