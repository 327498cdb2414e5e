import { storeLabel } from './stack-start';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { emptyResult, profileOf, runBatch } from './batches';
import { watchLoad } from './machine';
import type { Options } from './options';
import { parseOptions } from './options';
import type { HistoryProfile, SideResult } from './report';
import {
  casesPerSecond,
  comparisonTable,
  cpuTable,
  OP_MEANING,
  OPS,
  profileTable,
  storeCommandLines,
} from './report';
import { DATABASES } from './scenario';
import { abortedBecause, abortedBySignal, abortOnSignal, progress } from './run-control';
import type { Stoppable } from './servers';
import { startBench } from './setup';
import { baselineViaClient, engineViaApi, engineViaClient } from './sides';

/**
 * Engine overhead benchmark (`npm run bench -- --cases 30 --concurrency 8`): on a throw-away
 * local stack, drives N cases of a two-task process three ways and compares them:
 *
 * - engine/API: the interpreter through the HTTP API, as people use it (auth, validation,
 *   scope checks, work-list reads);
 * - engine/client: the same interpreter and definition driven through the Temporal client
 *   (workflow.start and executeUpdate, the calls the API makes), so the API's share shows;
 * - baseline: a hand-written workflow (baseline-workflow.ts) doing the same steps, driven
 *   through the client.
 *
 * Progress goes to stderr; the figures to stdout. See bench/README.md for what is measured.
 */

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const tempDir = await mkdtemp(path.join(tmpdir(), 'governance-flow-bench-'));
  const running: Stoppable[] = [];
  let serverPids: number[] = [];
  // Signals are ours: the first stops the run and cleans up in order; a second kills the servers,
  // removes the temporary folder and exits at once.
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (abortedBySignal()) {
        for (const pid of serverPids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        rmSync(tempDir, { recursive: true, force: true });
        process.exit(130);
      }
      abortOnSignal(signal);
      progress.info(`${signal}: stopping and cleaning up (again to exit at once)`);
    });
  }

  try {
    const ctx = await startBench(tempDir, options, running, (pids) => (serverPids = pids));

    const sides = [baselineViaClient(ctx), engineViaClient(ctx), engineViaApi(ctx)];
    for (const side of sides) {
      if (options.warmup > 0) {
        await progress.step(`${side.name}: ${options.warmup} warm-up cases`, () =>
          runBatch(ctx, side, 'warmup', options.warmup, options.concurrency, emptyResult('warmup')),
        );
      }
    }
    // The sides take turns in rounds, in a rotating order, so that a busier moment of the machine
    // or stores that fill up weigh on each side alike.
    const rounds = Math.max(
      1,
      Math.min(options.rounds, Math.floor(options.cases / options.concurrency)),
    );
    const results = new Map(sides.map((side) => [side.name, emptyResult(side.name)]));
    const perRound = new Map<string, number[]>(sides.map((side) => [side.name, []]));
    const load = watchLoad();
    for (let round = 0; round < rounds; round++) {
      const count = Math.floor(options.cases / rounds) + (round < options.cases % rounds ? 1 : 0);
      for (let i = 0; i < sides.length; i++) {
        const side = sides[(round + i) % sides.length]!;
        const result = results.get(side.name)!;
        const rate = await runBatch(ctx, side, `r${round}`, count, options.concurrency, result);
        perRound.get(side.name)!.push(rate);
        progress.info(
          `round ${round + 1}/${rounds}: ${side.name} ${count} cases at ${rate.toFixed(2)} cases/s (${result.cases}/${options.cases} done)`,
        );
      }
    }
    const loads = load.stop();
    const [base, viaClient, viaApi] = sides.map((s) => results.get(s.name)!) as [
      SideResult,
      SideResult,
      SideResult,
    ];

    const profiles: Array<[string, HistoryProfile]> = [];
    if (options.profile > 0) {
      for (const side of [...sides].reverse()) {
        const result = results.get(side.name)!;
        profiles.push([result.name, await profileOf(ctx, side, result, options.profile)]);
      }
    }

    const commands = storeCommandLines(
      await ctx.storeCommands(),
      sides.map((side) => ({
        name: side.name,
        database: DATABASES[side.store],
        cases: options.warmup + options.cases,
      })),
    );
    const out = figures(options, rounds, loads, [viaApi, viaClient, base], perRound, profiles);
    out.push(
      '',
      `store commands per case, by the engine's and the baseline's processes since they started (warm-up and set-up included):`,
      ...commands,
    );
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    for (const item of running.reverse()) {
      try {
        await item.stop();
      } catch (err) {
        progress.info(`stopping the ${item.name} failed: ${(err as Error).message}`);
      }
    }
    await rm(tempDir, { recursive: true, force: true });
    progress.info('stopped everything and removed the temporary folder');
  }
}

/** The figures printed on stdout: the run's shape, the tables, the ratios and the overheads. */
function figures(
  options: Options,
  rounds: number,
  loads: number[],
  [viaApi, viaClient, base]: [SideResult, SideResult, SideResult],
  perRound: Map<string, number[]>,
  profiles: Array<[string, HistoryProfile]>,
): string[] {
  const sides = [base, viaClient, viaApi];
  const out: string[] = [
    `engine overhead: ${options.cases} cases per side (+${options.warmup} warm-up) in ${rounds} round(s), concurrency ${options.concurrency}, read model polled every ${options.pollMs} ms`,
    `process: two human tasks (claim + complete each) and an end; one Temporal dev server and one FerretDB (${storeLabel()}, STACK_STORE), each side with its own task queue and database`,
    `machine: ${os.cpus().length} CPUs; 1-min load average during the run ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} (mean ${(loads.reduce((a, b) => a + b, 0) / loads.length).toFixed(1)})`,
    '',
    comparisonTable(viaApi, viaClient, base),
    '',
    cpuTable([viaApi, viaClient, base]),
    '',
    `cases/s per round: ${sides
      .map(
        (side) =>
          `${side.name} ${perRound
            .get(side.name)!
            .map((r) => r.toFixed(2))
            .join(' / ')}`,
      )
      .join('; ')}`,
    'ratios are engine ÷ baseline: above 1x a latency is longer; below 1x throughput is lower',
    ...OPS.map((op) => `  ${op}: ${OP_MEANING[op]}`),
  ];
  if (profiles.length > 0) {
    out.push(
      '',
      `per case, from the workflow histories of ${options.profile} measured cases per side (activity time = queued + running):`,
      '',
      profileTable(profiles),
    );
  }
  const apiOverhead = casesPerSecond(viaClient) / casesPerSecond(viaApi);
  const interpreterOverhead = casesPerSecond(base) / casesPerSecond(viaClient);
  const overhead = casesPerSecond(base) / casesPerSecond(viaApi);
  out.push(
    '',
    `interpreter overhead: ${interpreterOverhead.toFixed(2)}x (engine via client vs baseline, time per case)`,
    `API overhead: ${apiOverhead.toFixed(2)}x (engine via API vs engine via client, time per case)`,
    `overhead: ${overhead.toFixed(2)}x (target < 1.2x; engine via API vs baseline, time per case = baseline cases/s ÷ engine cases/s)`,
  );
  return out;
}

main().catch((err: unknown) => {
  const signalled = abortedBySignal();
  process.stderr.write(
    signalled
      ? `[bench] ${abortedBecause()}: no figures\n`
      : `${(err as Error).stack ?? String(err)}\n`,
  );
  process.exitCode = signalled ? 130 : 1;
});
