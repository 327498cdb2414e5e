import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ensureFerretDb, ensureTemporalCli, ensureTestServer } from '../../stack/install';
import { ensureChromium } from './browser';
import { PROJECT_ROOT, stackDirs } from '../../stack/paths';
import { consoleProgress } from '../../stack/progress';
import type { LocalStack } from '../../stack/stack';
import { randomPorts, startLocalStack } from '../../stack/stack';
import type { TestStackInfo } from './test-stack';

const run = promisify(execFile);

/**
 * Starts one local stack for the whole run, on free ports and a fresh data folder so it never
 * touches a developer's `npm start`, installs what is missing, and bundles the workflow code once.
 */
export default async function globalSetup(): Promise<void> {
  const progress = consoleProgress('[test-stack]');
  process.stdout.write('\n');
  const dataDir = await mkdtemp(path.join(tmpdir(), 'governance-flow-test-'));
  const dirs = stackDirs({ dataDir });
  const [temporalCliPath, ferretdbPath, testServerPath] = [
    await ensureTemporalCli(dirs.bin, progress),
    await ensureFerretDb(dirs.bin, progress),
    await ensureTestServer(dirs.bin, progress),
  ];
  await ensureChromium((line) => progress.info(line));
  const stack: LocalStack = await startLocalStack({
    dirs,
    ports: await randomPorts(),
    progress,
    // The tests always run against the embedded servers, whatever the shell points at.
    env: {},
  });
  // Bundled in a child process: webpack left running in jest's own process keeps it from exiting.
  const workflowBundlePath = path.join(dataDir, 'workflow-bundle.js');
  await progress.step('Bundling workflow code', () =>
    run(process.execPath, ['--import', 'tsx', 'scripts/bundle-workflows.ts', workflowBundlePath], {
      cwd: PROJECT_ROOT,
    }),
  );

  const info: TestStackInfo = {
    env: stack.env as TestStackInfo['env'],
    mailDir: dirs.mail,
    dataDir,
    workflowBundlePath,
    testServerPath,
    temporalCliPath,
    ferretdbPath,
  };
  const infoFile = path.join(dataDir, 'test-stack.json');
  await writeFile(infoFile, JSON.stringify(info, null, 2));
  process.env.GOVERNANCE_TEST_STACK_FILE = infoFile;
  (
    globalThis as { __governanceTestStack?: { stack: LocalStack; dataDir: string } }
  ).__governanceTestStack = {
    stack,
    dataDir,
  };
}
