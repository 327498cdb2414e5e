import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

/**
 * Bundles the benchmark's baseline workflow into `argv[2]`. Run as a child process by
 * engine-overhead.ts (webpack left in the benchmark's own process would keep it from exiting),
 * as scripts/bundle-workflows.ts does for the engine's workflows.
 */
async function main(): Promise<void> {
  const out = process.argv[2];
  if (!out) throw new Error('usage: bundle-baseline.ts <out-file>');
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('./baseline-workflow'),
    logger: {
      log() {},
      trace() {},
      debug() {},
      info() {},
      warn: (message) => process.stderr.write(`${message}\n`),
      error: (message) => process.stderr.write(`${message}\n`),
    },
  });
  await writeFile(path.resolve(out), code);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
