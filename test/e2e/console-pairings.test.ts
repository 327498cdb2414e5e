import type { ConsoleClient } from '../support/console-client';
import { consoleClient, textOf } from '../support/console-client';
import type { TestApp } from '../support/harness';
import { startTestApp } from '../support/harness';

/**
 * 包联 on the console's admin org pages: a unit's page lists who is paired with it and adds or
 * ends a pairing; a co-building unit's page lists what it looks after; bad input is named.
 */
let app: TestApp;
let admin: ConsoleClient;

beforeAll(async () => {
  app = await startTestApp('console-pairings', { worker: false });
  admin = consoleClient(app.api.url);
  admin.useSession(await app.signIn('cp-admin', ['admin']));
  const res = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 'cp-county', name: '西乡县', type: 'county', parentId: null },
        { id: 'cp-c1', name: '幸福小区', type: 'compound', parentId: 'cp-county' },
        { id: 'cp-bureau', name: '县水利局', type: 'cobuilding', parentId: 'cp-county' },
      ],
      people: [{ id: 'cp-cadre', name: '王干部' }],
      pairings: [{ unitId: 'cp-c1', kind: 'unit', partnerUnitId: 'cp-bureau' }],
    },
  });
  expect(res.status).toBe(200);
});

afterAll(async () => {
  await app?.stop();
});

const UNIT = '/console/admin/org/units/cp-c1';

it('when an admin pairs a cadre on the unit page and ends it, then the page lists it, then not', async () => {
  // Arrange
  expect((await admin.get(UNIT)).status).toBe(200);

  // Act
  const saved = await admin.post(`${UNIT}/pairings`, {
    kind: 'cadre',
    personId: 'cp-cadre',
    partnerUnitId: '',
    validFrom: '2026-01-01',
    validUntil: '',
  });
  const listed = await admin.get(saved.location!);
  await admin.get(UNIT);
  const ended = await admin.post(`${UNIT}/pairings/remove`, {
    id: 'cadre:cp-c1:person:cp-cadre',
  });
  const after = await admin.get(ended.location!);

  // Assert
  expect(saved.status).toBe(303);
  expect(listed.html).toContain('data-pairing="cadre:cp-c1:person:cp-cadre"');
  expect(listed.html).toContain('data-pairing="unit:cp-c1:unit:cp-bureau"');
  const text = textOf(listed.html);
  expect(text).toContain('包联已保存');
  expect(text).toContain('王干部');
  expect(text).toContain('干部包联');
  expect(text).toContain('2026-01-01 – …');
  expect(ended.status).toBe(303);
  expect(after.html).not.toContain('data-pairing="cadre:cp-c1:person:cp-cadre"');
  expect(await app.db.models.Pairing.findById('cadre:cp-c1:person:cp-cadre').lean()).toBeNull();
});

it('when the form names an unknown person or both partners, then the problem is named and nothing is stored', async () => {
  await admin.get(UNIT);
  const unknown = await admin.post(`${UNIT}/pairings`, { kind: 'cadre', personId: 'cp-nobody' });
  await admin.get(UNIT);
  const both = await admin.post(`${UNIT}/pairings`, {
    kind: 'unit',
    personId: 'cp-cadre',
    partnerUnitId: 'cp-bureau',
  });

  expect(unknown.status).toBe(422);
  expect(textOf(unknown.html)).toContain('unknown person "cp-nobody"');
  expect(both.status).toBe(422);
  expect(textOf(both.html)).toContain('give either personId');
  expect(await app.db.models.Pairing.countDocuments({ unitId: 'cp-c1' })).toBe(1);
});

it('when the co-building unit’s page is opened, then it lists the compound it looks after', async () => {
  const page = await admin.get('/console/admin/org/units/cp-bureau');

  expect(page.status).toBe(200);
  const text = textOf(page.html);
  expect(text).toContain('此单位包联');
  expect(text).toContain('幸福小区');
});
