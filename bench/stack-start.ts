import path from 'node:path';
import { stackDirs } from '../stack/paths';
import { storeFromEnv } from '../stack/postgres';
import type { LocalStack, StackComponent } from '../stack/stack';
import { randomPorts, startLocalStack } from '../stack/stack';
import { progress } from './run-control';
import type { Stoppable } from './servers';
import { bundle } from './servers';

/** The store of the last stack this process started, for the figures' headings. */
let startedStore: string | undefined;

/** `PostgreSQL` or `SQLite`: FerretDB's store under the benchmark's stack. */
export function storeLabel(): string {
  return startedStore === 'sqlite' ? 'SQLite' : startedStore === 'postgresql' ? 'PostgreSQL' : '?';
}

/**
 * Starts a throw-away local stack in `<tempDir>/stack` on free ports (the store from
 * `STACK_STORE`, else the stack's default) while the workflow bundles build, for every benchmark. A stack that started is
 * put on `running` whatever happened to the bundles, so the caller stops it; then the first
 * failure, of the stack or of a bundle, is thrown.
 */
export async function startStackWhileBundling(
  tempDir: string,
  bundles: ReadonlyArray<{ out: string; workflows?: string }>,
  running: Stoppable[],
  label = 'Bundling the engine workflows',
  /** The stack's servers to start (default all); a bench may run the mail sink itself. */
  only?: ReadonlyArray<StackComponent>,
): Promise<LocalStack> {
  const [stackStart, bundling] = await Promise.allSettled([
    startLocalStack({
      dirs: stackDirs({ dataDir: path.join(tempDir, 'stack') }),
      ports: await randomPorts(),
      progress,
      env: {},
      store: storeFromEnv(process.env),
      ...(only ? { only } : {}),
    }),
    progress.step(label, () => Promise.all(bundles.map((b) => bundle(b.out, b.workflows)))),
  ]);
  if (stackStart.status === 'fulfilled') {
    const stack = stackStart.value;
    running.push({ name: 'stack', stop: () => stack.stop() });
    startedStore = stack.store;
  }
  if (stackStart.status === 'rejected') throw stackStart.reason;
  if (bundling.status === 'rejected') throw bundling.reason;
  return stackStart.value;
}
