/** @type {import('jest').Config} */
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] };

/**
 * An integration tier: its own global setup starts only what the tier uses (see
 * test/support/global-setup.ts), on top of what another tier of the same run already started, and
 * the one shared teardown stops it all. Jest runs each distinct setup file once per run, and only
 * for projects that have tests to run.
 */
const tier = (name) => ({
  displayName: name,
  testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
  testEnvironment: 'node',
  transform,
  globalSetup: `<rootDir>/test/support/tiers/${name}-setup.ts`,
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
});

module.exports = {
  // unit: pure functions, starts nothing. workflow: the interpreter on time-skipping test servers
  // (FerretDB, SMTP sink). e2e: the API and worker on the Temporal dev server. browser: the
  // console in Chromium. `npm run test:<tier>` runs one; `npm test` runs all four.
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      testEnvironment: 'node',
      transform,
    },
    tier('workflow'),
    tier('e2e'),
    tier('browser'),
  ],
  maxWorkers: 2,
  // Each integration file leaves about 100 MB of heap behind in its worker (something keeps each
  // file's module registry alive; not pinned down. Measured with --logHeapUsage: 316 MB after one
  // workflow file, 896 MB after six). Over a whole run a worker then spends most of its time
  // collecting garbage and the time-skipping tests miss their timings by minutes (sla.test.ts:
  // 11 s alone, 249-472 s late in a full run). A worker past 1 GB (chosen) is replaced after the
  // file it ran.
  workerIdleMemoryLimit: '1GB',
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  // Integration tests wait on real servers; unit tests finish in milliseconds either way.
  testTimeout: 120000,
};
