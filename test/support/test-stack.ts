import { readFileSync } from 'node:fs';

/** What the global setup started, shared with test files through a JSON file. */
export interface TestStackInfo {
  env: { TEMPORAL_ADDRESS: string; MONGODB_URI: string; SMTP_URL: string };
  mailDir: string;
  dataDir: string;
  workflowBundlePath: string;
  testServerPath: string;
  temporalCliPath: string;
  ferretdbPath: string;
}

export function testStack(): TestStackInfo {
  const file = process.env.GOVERNANCE_TEST_STACK_FILE;
  if (!file)
    throw new Error('The integration tests need the global setup (run them with npm test)');
  return JSON.parse(readFileSync(file, 'utf8')) as TestStackInfo;
}
