import { DefaultFailureConverter } from '@temporalio/common';

/**
 * The failure converter of every Temporal client, worker and workflow bundle of the project: a
 * failure's message and stack trace travel as an encoded attribute, a payload, so the payload
 * codec encrypts them with the rest (common/payload-codec.ts). A failure can quote personal data
 * (a driver's error naming a duplicate key, a relay refusing an address); history then shows only
 * "Encoded failure", and the Temporal UI decodes it through the codec endpoint for admins.
 * Failures recorded before this was set decode as they were: the converter reads both forms.
 *
 * Workflow-safe (no Node.js imports): the bundler loads it into the workflow sandbox by path.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
