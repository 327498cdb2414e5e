import { startStackWhileBundling } from './stack-start';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createDefinitionService } from '../services/definitions';
import { createOrgService } from '../services/org';
import { createScopeResolver } from '../services/scope';
import { loadConfig } from '../common/config';
import { dataConverterFor } from '../common/payload-codec';
import { createMailRenderer } from '../mail/renderer';
import { connectDatabase } from '../models';
import { BASELINE_COLLECTIONS } from './baseline-activities';
import { keepAlive } from './http';
import { cpuMeter } from './machine';
import type { Options } from './options';
import { abort, throwIfAborted } from './run-control';
import {
  ADMIN_KEY,
  createAccounts,
  DATABASES,
  DEFINITION,
  DEFINITION_KEY,
  orgOf,
  QUEUES,
} from './scenario';
import type { Stoppable } from './servers';
import { startHost } from './host';
import type { Context } from './sides';

/**
 * Starts everything the run needs in `tempDir`: the local stack (while both workflow bundles
 * build), the engine's process (two workers, the API) and the baseline worker's, the database connections and the
 * Temporal client; publishes the process and creates the accounts and the org tree. Each thing
 * started goes onto `running` as soon as it runs, so the caller stops it whatever fails later;
 * `onServers` hears the servers' pids as soon as the stack is up.
 */
export async function startBench(
  tempDir: string,
  options: Options,
  running: Stoppable[],
  onServers: (pids: number[]) => void,
): Promise<Context> {
  const engineBundle = path.join(tempDir, 'engine-workflows.js');
  const baselineBundle = path.join(tempDir, 'baseline-workflows.js');
  // The stack starts while the two bundles build; a stack that started is stopped whatever
  // happened to the bundles.
  const stack = await startStackWhileBundling(
    tempDir,
    [{ out: engineBundle }, { out: baselineBundle, workflows: 'bench/baseline-workflow.ts' }],
    running,
    'Bundling the engine and baseline workflows',
  );
  onServers(stack.pids);
  // A server that dies mid-run stops the run instead of leaving the drivers to time out.
  void stack.failure.then(abort);
  throwIfAborted();

  const dbUri = (name: string) => stack.env.MONGODB_URI!.replace(/\/[^/]*$/, `/${name}`);
  const envOf = (side: 'api' | 'client') => ({
    ...stack.env,
    MONGODB_URI: dbUri(DATABASES[side]),
    TEMPORAL_TASK_QUEUE: QUEUES[side],
    API_PORT: '0',
    LOG_LEVEL: 'warn',
    // The benchmark measures the engine, not the limits: its resident starts every case.
    RATE_LIMIT_CASE_START: 'off',
    RATE_LIMIT_CASE_START_ADDRESS: 'off',
  });
  const configOf = (side: 'api' | 'client') => loadConfig(envOf(side));
  const apiConfig = configOf('api');
  const clientConfig = configOf('client');
  // The engine (both sides' workers and the API) and the baseline's worker run in processes of
  // their own (bench/host.ts), so this one holds only the drivers and its CPU is theirs.
  const engine = await startHost(
    'engine (API, workers)',
    {
      role: 'engine',
      envs: [envOf('api'), envOf('client')],
      bundle: engineBundle,
      adminKey: ADMIN_KEY,
    },
    options.cpuProf,
  );
  running.push(engine);
  onServers([...stack.pids, engine.pid]);
  const baseline = await startHost(
    'baseline worker',
    {
      role: 'baseline',
      env: envOf('api'),
      mongoUri: dbUri(DATABASES.baseline),
      bundle: baselineBundle,
    },
    options.cpuProf,
  );
  running.push(baseline);
  onServers([...stack.pids, engine.pid, baseline.pid]);
  const api = { url: engine.apiUrl! };
  // Stopped before the API (in reverse order): its kept-alive connections would hold the server.
  running.push({ name: 'HTTP client', stop: () => Promise.resolve(keepAlive.destroy()) });
  const apiDb = await connectDatabase(apiConfig.MONGODB_URI);
  running.push({ name: 'database connection (API side)', stop: () => apiDb.close() });
  const clientDb = await connectDatabase(clientConfig.MONGODB_URI);
  running.push({ name: 'database connection (client side)', stop: () => clientDb.close() });
  const connection = await Connection.connect({ address: apiConfig.TEMPORAL_ADDRESS });
  running.push({ name: 'Temporal client', stop: () => connection.close() });
  const client = new Client({
    connection,
    namespace: apiConfig.TEMPORAL_NAMESPACE,
    dataConverter: dataConverterFor(apiConfig.TEMPORAL_CODEC_KEYS),
  });

  const definitions = createDefinitionService(apiDb.models, createMailRenderer().templateNames);
  await definitions.publish({
    source: DEFINITION,
    format: 'yaml',
    publishedBy: { kind: 'system', id: 'bench' },
  });
  const snapshot = await definitions.latestSnapshot(DEFINITION_KEY);
  if (!snapshot) throw new Error(`${DEFINITION_KEY} was not published`);
  const people = await createAccounts(api.url);
  // The engine/client side resolves candidates from the same org tree, in its own database.
  await createOrgService({
    models: clientDb.models,
    scope: createScopeResolver(clientDb.models),
    clock: () => new Date(),
  }).importOrg(orgOf(people));
  const engineStore = (db: typeof apiDb) => ({
    cases: db.connection.db!.collection<{ _id: string }>(db.models.Case.collection.collectionName),
    tasks: db.connection.db!.collection<{ _id: string }>(db.models.Task.collection.collectionName),
  });
  const baselineDb = clientDb.connection.getClient().db(DATABASES.baseline);
  const ctx: Context = {
    baseUrl: api.url,
    client,
    people,
    snapshot,
    stores: {
      api: engineStore(apiDb),
      client: engineStore(clientDb),
      baseline: {
        cases: baselineDb.collection(BASELINE_COLLECTIONS.cases),
        tasks: baselineDb.collection(BASELINE_COLLECTIONS.tasks),
      },
    },
    pollMs: options.pollMs,
    cpu: cpuMeter(stack.pids, [
      { pid: engine.pid, name: engine.name },
      { pid: baseline.pid, name: baseline.name },
    ]),
    storeCommands: async () => ({
      ...(await engine.storeCommands()),
      ...(await baseline.storeCommands()),
    }),
    runId: randomBytes(4).toString('hex'),
  };
  return ctx;
}
