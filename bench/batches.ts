import { mongo } from 'mongoose';
import type { HistoryLike, HistoryProfile, SideResult, StoredDocuments } from './report';
import { profileHistories, Samples } from './report';
import { abort, abortedBecause, throwIfAborted } from './run-control';
import type { Context, Side } from './sides';

/**
 * Runs `count` cases with `concurrency` in flight and adds them to `into`: a case counts when its
 * workflow has closed; wall time runs from the first start to the last close.
 */
export async function runBatch(
  ctx: Context,
  side: Side,
  phase: string,
  count: number,
  concurrency: number,
  into: SideResult,
): Promise<number> {
  let next = 0;
  const cpuBefore = ctx.cpu.read();
  const started = performance.now();
  const runner = async () => {
    while (next < count && !abortedBecause()) {
      const label = `${side.name.replace('/', '-')}-${phase}-${next++}`;
      const caseStarted = performance.now();
      const caseId = await side.runCase(label, into.samples);
      await ctx.client.workflow.getHandle(caseId).result();
      into.samples.add('case', performance.now() - caseStarted);
      into.caseIds.push(caseId);
    }
  };
  // The first error, in time: the other runners then fail with "aborted", which says nothing.
  let firstFailure: { error: unknown } | undefined;
  await Promise.allSettled(
    Array.from({ length: Math.min(concurrency, count) }, () =>
      runner().catch((err: unknown) => {
        firstFailure ??= { error: err };
        abort(`${side.name} failed`);
        throw err;
      }),
    ),
  );
  if (firstFailure) throw firstFailure.error;
  throwIfAborted();
  const wallMs = performance.now() - started;
  for (const [name, ms] of ctx.cpu.read()) {
    into.cpuMs.set(name, (into.cpuMs.get(name) ?? 0) + ms - (cpuBefore.get(name) ?? 0));
  }
  into.cases += count;
  into.wallMs += wallMs;
  return count / (wallMs / 1000);
}

export function emptyResult(name: string): SideResult {
  return { name, cases: 0, wallMs: 0, samples: new Samples(), caseIds: [], cpuMs: new Map() };
}

export async function profileOf(
  ctx: Context,
  side: Side,
  result: SideResult,
  sample: number,
): Promise<HistoryProfile> {
  const histories: HistoryLike[] = [];
  const documents: StoredDocuments = { caseBytes: 0, taskBytes: 0, tasks: 0 };
  const { cases, tasks } = ctx.stores[side.store];
  for (const caseId of result.caseIds.slice(0, sample)) {
    histories.push(await ctx.client.workflow.getHandle(caseId).fetchHistory());
    const stored = await cases.findOne({ _id: caseId });
    if (stored) documents.caseBytes += mongo.BSON.calculateObjectSize(stored);
    for (const task of await tasks.find({ caseId }).toArray()) {
      documents.taskBytes += mongo.BSON.calculateObjectSize(task);
      documents.tasks += 1;
    }
  }
  return profileHistories(histories, documents);
}
