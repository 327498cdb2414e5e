import { rm } from 'node:fs/promises';
import { runStack } from './global-setup';

/** Shared by the integration tiers, so jest runs it once per run: stops what their setups started. */
export default async function globalTeardown(): Promise<void> {
  const state = runStack();
  if (!state) return;
  // Reverse order of start: the dev server a later tier added goes before the database.
  for (const stack of [...state.stacks].reverse()) await stack.stop();
  if (!process.env.KEEP_TEST_DATA) await rm(state.dataDir, { recursive: true, force: true });
}
