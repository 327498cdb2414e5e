import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import mongoose from 'mongoose';
import { PROJECT_ROOT } from '../stack/paths';
import { BASELINE_COLLECTIONS, createBaselineActivities } from './baseline-activities';
import { QUEUES } from './scenario';

const run = promisify(execFile);

export interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

export async function startBaselineWorker(
  address: string,
  mongoUri: string,
  codePath: string,
  dataConverter: DataConverter,
): Promise<Stoppable> {
  const mongo = new mongoose.mongo.MongoClient(mongoUri);
  await mongo.connect();
  const db = mongo.db();
  // The indexes the engine keeps on its read model (models/index.ts), for comparable writes.
  await db.collection(BASELINE_COLLECTIONS.cases).createIndex({ createdAt: -1 });
  await db.collection(BASELINE_COLLECTIONS.cases).createIndex({ unitId: 1 });
  await db.collection(BASELINE_COLLECTIONS.cases).createIndex({ 'createdBy.id': 1 });
  await db.collection(BASELINE_COLLECTIONS.cases).createIndex({ 'publication.publishedAt': -1 });
  await db.collection(BASELINE_COLLECTIONS.tasks).createIndex({ caseId: 1 });
  await db.collection(BASELINE_COLLECTIONS.tasks).createIndex({ candidateUserIds: 1 });
  await db.collection(BASELINE_COLLECTIONS.tasks).createIndex({ status: 1, openedAt: -1 });
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    taskQueue: QUEUES.baseline,
    workflowBundle: { codePath },
    dataConverter,
    activities: createBaselineActivities(db),
  });
  const running = worker.run().finally(async () => {
    await connection.close();
    await mongo.close();
  });
  return {
    name: 'baseline worker',
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}

/** Bundles in a child process: webpack left in this process would keep it from exiting. */
export async function bundle(out: string, workflows?: string): Promise<void> {
  const args = [
    '--import',
    'tsx',
    'scripts/bundle-workflows.ts',
    out,
    ...(workflows ? [workflows] : []),
  ];
  await run(process.execPath, args, { cwd: PROJECT_ROOT });
}
