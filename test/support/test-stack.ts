import { readFileSync } from 'node:fs';
import type { DataConverter } from '@temporalio/common';
import { dataConverterFor, parseCodecKeys } from '../../common/payload-codec';

/**
 * What the global setup started, shared with test files through a JSON file. A run starts only
 * what its tiers use, so the parts one tier alone needs are optional: read them through the
 * accessors below, which say which tier provides them.
 */
export interface TestStackInfo {
  env: {
    TEMPORAL_ADDRESS?: string;
    MONGODB_URI: string;
    SMTP_URL: string;
    /** The run's payload codec key (generated into its data folder), for every tier. */
    TEMPORAL_CODEC_KEYS: string;
    /** The run's phone key secret (generated into its data folder with the store). */
    PHONE_KEY_SECRET?: string;
    /** The webhook sink (robots and SMS, stack/webhook-sink.ts): workflow and e2e tiers. */
    WEBHOOK_SINK_URL?: string;
    /** The sink's SMS endpoint, as the worker is configured with it. */
    SMS_HTTP_URL?: string;
  };
  mailDir: string;
  dataDir: string;
  workflowBundlePath: string;
  ferretdbPath: string;
  /** The time-skipping test server (workflow tier). */
  testServerPath?: string;
  /** The Temporal CLI whose dev server the e2e and browser tiers run. */
  temporalCliPath?: string;
}

export function testStack(): TestStackInfo {
  const file = process.env.GOVERNANCE_TEST_STACK_FILE;
  if (!file)
    throw new Error('The integration tests need the global setup (run them with npm test)');
  return JSON.parse(readFileSync(file, 'utf8')) as TestStackInfo;
}

function provided<T>(value: T | undefined, what: string, tiers: string): T {
  if (value === undefined) {
    throw new Error(`${what} is started only for the ${tiers} tier: move the test there`);
  }
  return value;
}

/** The webhook sink's base URL (`…/wecom/<robot>`, `…/dingtalk/<robot>`, `…/sms`). */
export function webhookSinkUrl(): string {
  return provided(
    testStack().env.WEBHOOK_SINK_URL,
    'The webhook sink',
    'workflow, e2e and browser',
  );
}

/** The time-skipping test server executable. */
export function testServerPath(): string {
  return provided(testStack().testServerPath, 'The time-skipping test server', 'workflow');
}

/** The Temporal CLI (its dev server runs for the e2e and browser tiers). */
export function temporalCliPath(): string {
  return provided(testStack().temporalCliPath, 'The Temporal CLI', 'e2e and browser');
}

/** The address of the shared Temporal dev server. */
export function temporalAddress(): string {
  return provided(testStack().env.TEMPORAL_ADDRESS, 'The Temporal dev server', 'e2e and browser');
}

/** The data converter of the run's clients and workers: payloads encrypted with the run's key. */
export function testDataConverter(): DataConverter {
  return dataConverterFor(parseCodecKeys(testStack().env.TEMPORAL_CODEC_KEYS));
}
