import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import * as workflows from '../../workflows';
import { quietTemporalRuntime } from '../support/harness';
import { testDataConverter, testStack } from '../support/test-stack';

/**
 * Replays recorded histories (test/fixtures/histories, made by `npm run record-histories`) through
 * today's interpreter. A change that alters the order of commands for a running case fails here
 * and must be guarded with `patched()`.
 */
const HISTORIES = path.join(__dirname, '..', 'fixtures', 'histories');
const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.json'));

beforeAll(() => quietTemporalRuntime());

it('has recorded histories to replay', () => {
  expect(files.length).toBeGreaterThanOrEqual(3);
});

it('when the histories are listed, then every workflow type the worker runs has one', () => {
  const recorded = new Set(
    files.map((file) => {
      const history = JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8')) as {
        events: Array<{
          workflowExecutionStartedEventAttributes?: { workflowType: { name: string } };
        }>;
      };
      return history.events[0]!.workflowExecutionStartedEventAttributes!.workflowType.name;
    }),
  );
  const types = Object.entries(workflows)
    .filter(([, value]) => typeof value === 'function')
    .map(([name]) => name);
  expect(types.length).toBeGreaterThanOrEqual(5);
  expect(types.filter((type) => !recorded.has(type))).toEqual([]);
});

it.each(files)(
  'when %s is replayed on the current interpreter, then it is deterministic',
  async (file) => {
    const history = JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8')) as unknown;
    await expect(
      Worker.runReplayHistory(
        // Through the payload codec, as the workers run: payloads recorded before encryption
        // (all of these fixtures) are passed through untouched.
        {
          workflowBundle: { codePath: testStack().workflowBundlePath },
          dataConverter: testDataConverter(),
        },
        history,
        // The workflow id, which a history does not carry: the file's name, under which the
        // recorder runs the workflows whose commands depend on it (scheduledCaseWorkflow).
        path.basename(file, '.json'),
      ),
    ).resolves.toBeUndefined();
  },
);
