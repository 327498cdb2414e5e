import { DEMO_PASSWORD } from '../../demo/county';
import { accountsStage, openDemoSeedDeps, orgStage, seedDemo } from '../../demo/seed';
import { guideExamples } from '../../scripts/process-guide';
import type { TestApp } from '../support/harness';
import { idempotencyKey, startTestApp, waitFor } from '../support/harness';

/**
 * Every shipped process runs with the demo county, as npm start loads them: each is started as
 * docs/process-library.md shows (the same demo account, unit and data), and the first work it
 * opens (here or in the child cases it starts) reaches somebody in the county. A process whose
 * first task found nobody, or that failed, is named.
 */
interface Entry {
  type: string;
  detail?: Record<string, unknown>;
}
interface CaseBody {
  id: string;
  status: string;
  timeline: Entry[];
}

let app: TestApp;
const examples = guideExamples();
const tokens = new Map<string, string>();

beforeAll(async () => {
  app = await startTestApp('process-library');
  const seeder = await openDemoSeedDeps(app.config);
  try {
    const report = await seedDemo(seeder.deps, { stages: [accountsStage, orgStage], force: true });
    expect(report.status).not.toBe('refused');
  } finally {
    await seeder.close();
  }
  for (const username of new Set(examples.flatMap((e) => (e.username ? [e.username] : [])))) {
    const login = await app.http<{ token: string }>('POST', '/api/v1/auth/login', {
      body: { username, password: DEMO_PASSWORD },
    });
    expect(login.status).toBe(200);
    tokens.set(username, login.body.token);
  }
}, 120_000);

afterAll(async () => {
  await app?.stop();
});

async function caseOf(id: string): Promise<CaseBody | null> {
  const res = await app.http<CaseBody>('GET', `/api/v1/cases/${id}`, { token: app.adminKey });
  // A child started a moment ago may not be readable yet: not there yet, look again.
  return res.status === 200 ? res.body : null;
}

/** The cases a case started (sub-processes) that can be read yet. */
async function childrenOf(found: CaseBody): Promise<CaseBody[]> {
  const ids = found.timeline
    .filter((e) => e.type === 'subprocess.started')
    .map((e) => String(e.detail?.caseId));
  return (await Promise.all(ids.map(caseOf))).filter((c): c is CaseBody => c !== null);
}

it.each(examples.filter((e) => e.username !== null).map((e) => [e.key, e] as const))(
  'when %s is started as the guide shows, then its first work reaches somebody in the demo county',
  async (_key, example) => {
    // Act
    const started = await app.http<{ id: string }>('POST', '/api/v1/cases', {
      token: tokens.get(example.username!)!,
      headers: { 'idempotency-key': idempotencyKey() },
      body: example.body,
    });

    // Assert
    expect({ status: started.status, body: started.body }).toMatchObject({ status: 201 });
    const opened = await waitFor(
      `${example.key}: a task opened (or the case waiting on a timer or closed)`,
      async () => {
        const found = await caseOf(started.body.id);
        if (!found) return undefined;
        if (found.status === 'failed') return { found, tasks: [] as Entry[] };
        const cases = [found, ...(await childrenOf(found))];
        const tasks = cases.flatMap((c) => c.timeline.filter((e) => e.type === 'task.opened'));
        // Work that is not a task: a timer, or an evaluation round open for scores.
        const waiting =
          found.status !== 'open' ||
          found.timeline.some(
            (e) =>
              (e.type === 'step.entered' && e.detail?.stepType === 'timer') ||
              e.type === 'evaluation.opened',
          );
        return tasks.length > 0 || waiting ? { found, tasks } : undefined;
      },
      60_000,
    );
    expect(opened.found.status).not.toBe('failed');
    for (const task of opened.tasks) {
      expect({ task: task.detail?.task, candidates: task.detail?.candidates }).toEqual({
        task: task.detail?.task,
        candidates: expect.any(Number) as number,
      });
      expect(task.detail?.candidates).toBeGreaterThan(0);
    }
  },
  90_000,
);

it('when the guide is read, then every shipped process has an example a demo account can start', () => {
  // Assert
  expect(examples.filter((e) => e.username === null).map((e) => e.key)).toEqual([]);
  expect(examples.length).toBeGreaterThanOrEqual(21);
});
