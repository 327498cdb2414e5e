import { createDefinitionService } from '../../services/definitions';
import { createMailRenderer } from '../../mail/renderer';
import { readOrgRevision } from '../../models/org-revision';
import { rollCallProcess } from '../fixtures/definitions';
import type { TestApp } from '../support/harness';
import { idempotencyKey, startTestApp, uniqueAddress, waitFor } from '../support/harness';

/**
 * Org changes reach the next case at once: the worker keeps the org tree in memory, keyed by the
 * org revision every org write bumps, not by a timer. An admin who imports a compound's people and
 * activates its roll-call straight away gets every one of them called.
 */

const KEY = 'org-revision-roll-call';

let app: TestApp;

interface Task {
  id: string;
  stepId: string;
  candidates: Array<{ personId: string }>;
}

async function startRollCall(unitId: string): Promise<string> {
  const res = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: app.adminKey,
    headers: { 'idempotency-key': idempotencyKey() },
    body: { definitionKey: KEY, unitId, data: { reason: '演练' } },
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

function rollCallTaskOf(caseId: string): Promise<Task> {
  return waitFor(`the roll-call task of ${caseId}`, async () => {
    const res = await app.http<{ items: Task[] }>(
      'GET',
      `/api/v1/tasks?view=scope&caseId=${encodeURIComponent(caseId)}`,
      { token: app.adminKey },
    );
    return res.body.items.find((t) => t.stepId === 'report');
  });
}

function importCompound(id: string, people: number) {
  return app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [{ id, name: `${id} 小区`, type: 'compound', parentId: 'orgrev-g' }],
      people: Array.from({ length: people }, (_, i) => ({
        id: `${id}-p${i}`,
        name: `楼长${i}`,
        email: uniqueAddress(`${id}-${i}`),
      })),
      posts: Array.from({ length: people }, (_, i) => ({
        unitId: id,
        role: 'property-manager',
        personId: `${id}-p${i}`,
      })),
    },
  });
}

beforeAll(async () => {
  app = await startTestApp('org-revision');
  const definitions = createDefinitionService(app.db.models, createMailRenderer().templateNames);
  await definitions.publish({
    source: rollCallProcess(KEY, { name: '即时点名', windowS: 600 }),
    format: 'yaml',
    publishedBy: { kind: 'system', id: 'test' },
  });
  const base = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 'orgrev-s', name: '修订街道', type: 'street', parentId: null },
        { id: 'orgrev-g', name: '修订网格', type: 'grid', parentId: 'orgrev-s' },
      ],
      people: [],
      posts: [],
    },
  });
  expect(base.status).toBe(200);
}, 120_000);

afterAll(async () => {
  await app?.stop();
});

describe('org revision', () => {
  it('when an org import is written, then the org revision goes up', async () => {
    const before = await readOrgRevision(app.db.models);
    const res = await importCompound('orgrev-x0', 1);
    expect(res.status).toBe(200);
    expect(await readOrgRevision(app.db.models)).toBeGreaterThan(before);
  });

  it('when people are imported and their roll-call starts at once, then every one of them is called', async () => {
    // Arrange: a first roll-call makes the worker load (and keep) the tree as it stands
    const warm = await rollCallTaskOf(await startRollCall('orgrev-x0'));
    expect(warm.candidates).toHaveLength(1);

    // Act: a new compound of five, activated the moment the import answers
    expect((await importCompound('orgrev-x1', 5)).status).toBe(200);
    const task = await rollCallTaskOf(await startRollCall('orgrev-x1'));

    // Assert
    expect(task.candidates.map((c) => c.personId).sort()).toEqual([
      'orgrev-x1-p0',
      'orgrev-x1-p1',
      'orgrev-x1-p2',
      'orgrev-x1-p3',
      'orgrev-x1-p4',
    ]);
  });

  it('when a post is added to a running compound, then the next roll-call calls its holder too', async () => {
    const added = await app.http('POST', '/api/v1/org/posts', {
      token: app.adminKey,
      body: { unitId: 'orgrev-x0', role: 'property-manager', personId: 'orgrev-x1-p0' },
    });
    expect([200, 201]).toContain(added.status);
    const task = await rollCallTaskOf(await startRollCall('orgrev-x0'));
    expect(task.candidates.map((c) => c.personId).sort()).toEqual(['orgrev-x0-p0', 'orgrev-x1-p0']);
  });
});
