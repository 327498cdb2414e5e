import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ensureCodecKeys } from '../../stack/codec-key';
import { storeFromEnv } from '../../stack/postgres';
import { ensureFerretDb, ensureTemporalCli, ensureTestServer } from '../../stack/install';
import { ensureChromium } from './browser';
import type { StackDirs } from '../../stack/paths';
import { PROJECT_ROOT, stackDirs } from '../../stack/paths';
import type { Progress } from '../../stack/progress';
import { consoleProgress } from '../../stack/progress';
import type { LocalStack, StackComponent, StackPorts } from '../../stack/stack';
import { randomPorts, startLocalStack } from '../../stack/stack';
import type { TestStackInfo } from './test-stack';

const run = promisify(execFile);

/** The integration tiers: jest projects whose tests run against servers. */
export type Tier = 'workflow' | 'e2e' | 'browser';

interface TierNeeds {
  /** Servers of the shared local stack. */
  components: StackComponent[];
  /** The time-skipping test server binary (each workflow test file starts its own). */
  testServer: boolean;
  /** Debian's Chromium and a CJK font. */
  chromium: boolean;
}

/**
 * What each tier's tests use. The workflow tests run cases on their own time-skipping servers, so
 * they need FerretDB and the SMTP and webhook sinks but no dev server; the API and the console need the dev
 * server; only the browser tests drive Chromium. Every tier uses the workflow bundle.
 */
const NEEDS: Record<Tier, TierNeeds> = {
  workflow: { components: ['mongodb', 'smtp', 'webhooks'], testServer: true, chromium: false },
  e2e: {
    components: ['temporal', 'mongodb', 'smtp', 'webhooks'],
    testServer: false,
    chromium: false,
  },
  // The webhook sink too: the quick report's phone page reads its one-time code from the SMS.
  browser: {
    components: ['temporal', 'mongodb', 'smtp', 'webhooks'],
    testServer: false,
    chromium: true,
  },
};

/** The run's stack, kept on globalThis: jest runs every setup and the teardown in one process. */
export interface RunStack {
  dataDir: string;
  dirs: StackDirs;
  ports: StackPorts;
  progress: Progress;
  infoFile: string;
  info: Partial<Omit<TestStackInfo, 'env'>> & { env: Partial<TestStackInfo['env']> };
  /** Stacks started so far, each with the components one tier added. */
  stacks: LocalStack[];
  started: Set<StackComponent>;
  chromium: boolean;
}

const holder = globalThis as { __governanceTestStack?: RunStack };

export function runStack(): RunStack | undefined {
  return holder.__governanceTestStack;
}

async function createRunStack(): Promise<RunStack> {
  const progress = consoleProgress('[test-stack]');
  process.stdout.write('\n');
  // Free ports and a fresh data folder, so the tests never touch a developer's `npm start`.
  const dataDir = await mkdtemp(path.join(tmpdir(), 'governance-flow-test-'));
  const dirs = stackDirs({ dataDir });
  const infoFile = path.join(dataDir, 'test-stack.json');
  const state: RunStack = {
    dataDir,
    dirs,
    ports: await randomPorts(),
    progress,
    infoFile,
    info: { env: {}, mailDir: dirs.mail, dataDir },
    stacks: [],
    started: new Set(),
    chromium: false,
  };
  holder.__governanceTestStack = state;
  process.env.GOVERNANCE_TEST_STACK_FILE = infoFile;

  state.info.ferretdbPath = await ensureFerretDb(dirs.bin, progress);
  // Every tier's clients and workers encrypt payloads, as production does, with the run's key.
  await mkdir(dirs.data, { recursive: true });
  state.info.env.TEMPORAL_CODEC_KEYS = await ensureCodecKeys(dirs.data);
  // Bundled in a child process: webpack left running in jest's own process keeps it from exiting.
  const workflowBundlePath = path.join(dataDir, 'workflow-bundle.js');
  await progress.step('Bundling workflow code', () =>
    run(process.execPath, ['--import', 'tsx', 'scripts/bundle-workflows.ts', workflowBundlePath], {
      cwd: PROJECT_ROOT,
    }),
  );
  state.info.workflowBundlePath = workflowBundlePath;
  return state;
}

/**
 * Brings up what `tier` needs on top of what earlier tiers of this run started. Jest runs one
 * global setup per project that has tests to run, one after another: with several tiers in a run
 * the stack is still started once, each server at most once, and the teardown stops them all.
 */
export async function provisionTier(tier: Tier): Promise<void> {
  const needs = NEEDS[tier];
  const state = runStack() ?? (await createRunStack());
  const { dirs, progress } = state;

  if (needs.testServer && !state.info.testServerPath) {
    state.info.testServerPath = await ensureTestServer(dirs.bin, progress);
  }
  if (needs.components.includes('temporal') && !state.info.temporalCliPath) {
    state.info.temporalCliPath = await ensureTemporalCli(dirs.bin, progress);
  }
  if (needs.chromium && !state.chromium) {
    await ensureChromium((line) => progress.info(line));
    state.chromium = true;
  }
  const missing = needs.components.filter((component) => !state.started.has(component));
  if (missing.length > 0) {
    const stack = await startLocalStack({
      dirs,
      ports: state.ports,
      progress,
      // The tests always run against the embedded servers, whatever the shell points at.
      env: {},
      // …except the store, so a run can prove the tiers on PostgreSQL (STACK_STORE=postgresql).
      store: storeFromEnv(process.env),
      only: missing,
    });
    state.stacks.push(stack);
    for (const component of missing) state.started.add(component);
    Object.assign(state.info.env, stack.env);
  }
  await writeFile(state.infoFile, JSON.stringify(state.info, null, 2));
}
