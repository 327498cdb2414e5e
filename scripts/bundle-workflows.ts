import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '../common/payload-codec';

/**
 * Pre-builds the workflow bundle (`npm run bundle [out-file] [workflows-module]`), so a worker
 * started with WORKFLOW_BUNDLE_PATH skips webpack at start-up. The tests build it once per run
 * this way; the benchmark also bundles its baseline workflow with it.
 */
async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? path.join('dist', 'workflow-bundle.js'));
  const workflows = process.argv[3]
    ? path.resolve(process.argv[3])
    : require.resolve('../workflows');
  const { code } = await bundleWorkflowCode({
    workflowsPath: workflows,
    // Failures leave the sandbox with their message and stack encoded (see the module).
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: {
      log() {},
      trace() {},
      debug() {},
      info() {},
      warn: (message) => process.stderr.write(`${message}\n`),
      error: (message) => process.stderr.write(`${message}\n`),
    },
  });
  await writeFile(out, code);
  process.stdout.write(
    `workflow bundle written to ${out} (${(code.length / 1024).toFixed(0)} KiB)\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
