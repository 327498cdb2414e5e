// Writes the run's totals to .artifacts/test-summary.json for .ci/run, which prints them as the
// plain "N passed, N failed" line CI reads. Plain CommonJS: jest loads reporters untransformed.
const { mkdirSync, writeFileSync } = require('node:fs');
const path = require('node:path');

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    const summary = {
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
      suitesFailed: results.numFailedTestSuites,
    };
    const dir = path.join(this.rootDir, '.artifacts');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'test-summary.json'), JSON.stringify(summary, null, 2));
  }
}

module.exports = SummaryReporter;
