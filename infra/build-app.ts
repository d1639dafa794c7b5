// Builds the CDK app for one stage: reads the stage configuration, checks the function entries,
// creates the stack and registers cdk-nag. app.ts runs it; the tests call it directly.
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { entryPath, type FunctionCodeOverride } from './constructs/backend-function';
import type { FunctionName } from './environment';
import { VisionBackendStack } from './stack';
import { loadStageConfig, type StageConfig, StageConfigError, stackNameFor } from './stage-config';

export const FUNCTION_NAMES: readonly FunctionName[] = ['chat', 'sessions', 'uploads', 'generate'];

export interface BuildAppOptions {
  /** Repository root: package-lock.json, functions/, infra/stages/. */
  projectRoot: string;
  /** Extra context (e.g. `stage`); cdk.json's context and CDK_CONTEXT_JSON apply as well. */
  context?: Record<string, unknown>;
  outdir?: string;
  /** Folder holding `<function>/handler.ts`; defaults to `<projectRoot>/functions`. */
  entriesRoot?: string;
  /** Ready-made code instead of bundling (unit tests). */
  functionCode?: FunctionCodeOverride;
}

export interface BuiltApp {
  app: App;
  stack: VisionBackendStack;
  config: StageConfig;
}

/** Function entries that do not exist yet (they are written in functions/, outside infra/). */
export function missingEntries(entriesRoot: string): string[] {
  return FUNCTION_NAMES.map((name) => entryPath(entriesRoot, name)).filter((path) => !existsSync(path));
}

/**
 * cdk.json's feature flags. The CDK CLI passes them to the app, but `make synth` runs the app
 * directly (no CLI, no AWS calls), so the app reads them itself; CLI-passed context still wins.
 */
export function cdkJsonContext(projectRoot: string): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(projectRoot, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

export function buildApp(options: BuildAppOptions): BuiltApp {
  const appProps: AppProps = {
    context: { ...cdkJsonContext(options.projectRoot), ...options.context },
    // No AWS::CDK::Metadata resource: templates stay reproducible and free of usage reporting.
    analyticsReporting: false,
    ...(options.outdir ? { outdir: options.outdir } : {}),
  };
  const app = new App(appProps);

  const stageContext: unknown = app.node.tryGetContext('stage') ?? 'dev';
  if (typeof stageContext !== 'string') {
    throw new StageConfigError(
      `context "stage" must be a string (cdk -c stage=dev), got ${JSON.stringify(stageContext)}`,
    );
  }
  const config = loadStageConfig(stageContext, join(options.projectRoot, 'infra', 'stages'));

  const entriesRoot = options.entriesRoot ?? join(options.projectRoot, 'functions');
  if (!options.functionCode) {
    const missing = missingEntries(entriesRoot);
    if (missing.length > 0) {
      const list = missing.map((p) => `  - ${relative(options.projectRoot, p)}`).join('\n');
      throw new StageConfigError(`cannot bundle: function entries are missing:\n${list}`);
    }
  }

  const stackName = stackNameFor(config.stage);
  const stack = new VisionBackendStack(app, stackName, {
    stackName,
    // Stack tags: CloudFormation copies them onto every resource it creates.
    tags: { project: 'elevenlabs-vision', stage: config.stage },
    config,
    projectRoot: options.projectRoot,
    entriesRoot,
    ...(options.functionCode ? { functionCode: options.functionCode } : {}),
  });

  // Any AwsSolutions finding not acknowledged in nag.ts fails synthesis.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, config };
}
