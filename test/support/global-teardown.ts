import { rm } from 'node:fs/promises';
import type { LocalStack } from '../../stack/stack';

export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as { __governanceTestStack?: { stack: LocalStack; dataDir: string } })
    .__governanceTestStack;
  if (!state) return;
  await state.stack.stop();
  if (!process.env.KEEP_TEST_DATA) await rm(state.dataDir, { recursive: true, force: true });
}
