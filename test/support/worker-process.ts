import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { PROJECT_ROOT } from '../../stack/paths';
import type { TestApp } from './harness';
import { testStack } from './test-stack';

/**
 * The worker as production runs it, in its own process, for tests that kill it. Node loads tsx
 * in-process (not through the tsx launcher, which would put a second process in between), so
 * SIGKILL hits the worker.
 */
export function spawnWorker(app: TestApp, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'worker.ts'], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: app.config.TEMPORAL_ADDRESS,
      MONGODB_URI: app.config.MONGODB_URI,
      SMTP_URL: app.config.SMTP_URL,
      TEMPORAL_TASK_QUEUE: app.config.TEMPORAL_TASK_QUEUE,
      WORKFLOW_BUNDLE_PATH: testStack().workflowBundlePath,
      // The same payload codec key as the API, which encrypts the cases it starts.
      TEMPORAL_CODEC_KEYS: testStack().env.TEMPORAL_CODEC_KEYS,
      LOG_LEVEL: 'warn',
      // A mail the killed worker was sending is sent again once its lease runs out: short here.
      MAIL_SEND_LEASE_SECONDS: '5',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Resolves when the child has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}
