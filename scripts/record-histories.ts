import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startApi } from '../api/server';
import { createDefinitionService } from '../api/services/definitions';
import { loadConfig } from '../common/config';
import { createMailRenderer } from '../mail/renderer';
import { connectDatabase } from '../models';
import { ensureTemporalCli } from '../stack/install';
import { stackDirs } from '../stack/paths';
import { consoleProgress } from '../stack/progress';
import { randomPorts, startLocalStack } from '../stack/stack';
import { waitingProcess } from '../test/fixtures/definitions';
import { startWorker } from '../worker';

/**
 * Records workflow histories for the replay tests (`npm run record-histories`): runs real cases
 * on a throw-away local stack and saves each history under test/fixtures/histories/. Record new
 * ones when the interpreter gains behaviour; keep the old ones, they guard running cases.
 */
const run = promisify(execFile);
const OUT_DIR = path.resolve(__dirname, '..', 'test', 'fixtures', 'histories');
const SECRET = 'gfk_record_histories_0123456789abcdef0123456789';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const progress = consoleProgress('[record]');
  const dataDir = await mkdtemp(path.join(tmpdir(), 'governance-flow-record-'));
  const stack = await startLocalStack({
    dirs: stackDirs({ dataDir }),
    ports: await randomPorts(),
    progress,
    env: {},
  });
  const config = loadConfig({
    ...stack.env,
    API_PORT: '0',
    LOG_LEVEL: 'warn',
    TEMPORAL_TASK_QUEUE: 'record',
  });
  const worker = await startWorker(config);
  const api = await startApi(config);
  const db = await connectDatabase(config.MONGODB_URI);
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  try {
    await api.ensureBootstrapAdminKey(SECRET);
    await createDefinitionService(db.models, createMailRenderer().templateNames).publish({
      source: waitingProcess('replay-wait', 'PT2S'),
      format: 'yaml',
      publishedBy: { kind: 'system', id: 'record' },
    });
    const cases: Array<[string, string, Record<string, unknown>]> = [
      [
        'resident-request',
        'resident-request',
        { category: '环境卫生', description: '楼道杂物', contactEmail: 'r@example.test' },
      ],
      ['resident-request-no-mail', 'resident-request', { category: '其他', description: '无邮箱' }],
      [
        'notify-wait-notify',
        'replay-wait',
        { category: '其他', description: '等待', contactEmail: 'w@example.test' },
      ],
    ];
    const client = new Client({ connection });
    const cli = await ensureTemporalCli(stackDirs().bin, progress);
    for (const [name, definitionKey, data] of cases) {
      const res = await fetch(`${api.url}/api/v1/cases`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${SECRET}`,
          'content-type': 'application/json',
          'idempotency-key': `record-${name}`,
        },
        body: JSON.stringify({ definitionKey, data }),
      });
      const { id } = (await res.json()) as { id: string };
      const handle = client.workflow.getHandle(id);
      await handle.result();
      const file = path.join(OUT_DIR, `${name}.json`);
      // The CLI writes the proto3 JSON that historyFromJSON reads back.
      const { stdout } = await run(
        cli,
        [
          'workflow',
          'show',
          '--workflow-id',
          id,
          '--address',
          config.TEMPORAL_ADDRESS,
          '--output',
          'json',
        ],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      await writeFile(file, stdout);
      progress.info(`recorded ${path.relative(process.cwd(), file)}`);
    }
  } finally {
    await connection.close();
    await db.close();
    await api.stop();
    await worker.stop();
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
