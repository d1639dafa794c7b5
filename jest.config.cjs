// Jest runs the TypeScript sources through SWC (to CommonJS, which Jest runs most reliably);
// the production bundles are ESM, built by esbuild. ESM-only packages (middy) are transformed too.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j|mj)s$': [
      '@swc/jest',
      { jsc: { target: 'es2023', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
    ],
  },
  // jose 6 ships only ESM; @middy/core and @middy/util export only for `import`; so do the AI SDK
  // (`ai`, `@ai-sdk/*`) and its `@workflow/serde`, a client the Responses door is tested with.
  transformIgnorePatterns: ['/node_modules/(?!(@middy|jose|ai|@ai-sdk|@workflow)/)'],
  moduleNameMapper: {
    '^@middy/(core|util)$': '<rootDir>/node_modules/@middy/$1/index.js',
    // The AI SDK imports `zod/v4/locales/en.js`, whose export pattern maps to the ESM file even
    // for `require`; zod ships the CommonJS twin beside it.
    '^zod/v4/locales/(.*)\\.js$': '<rootDir>/node_modules/zod/v4/locales/$1.cjs',
  },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json', 'node'],
  testTimeout: 20000,
  maxWorkers: 2,
  watchman: false,
};
