/** @type {import('jest').Config} */
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] };

module.exports = {
  // Integration tests share one local stack (Temporal dev server, FerretDB, SMTP sink) started
  // by the integration project's global setup; unit tests need nothing and start nothing.
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      testEnvironment: 'node',
      transform,
    },
    {
      displayName: 'integration',
      testMatch: [
        '<rootDir>/test/workflow/**/*.test.ts',
        '<rootDir>/test/e2e/**/*.test.ts',
        '<rootDir>/test/browser/**/*.test.ts',
      ],
      testEnvironment: 'node',
      transform,
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  // Integration tests wait on real servers; unit tests finish in milliseconds either way.
  testTimeout: 120000,
};
