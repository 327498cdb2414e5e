import { readOrgRevision } from '../../models/org-revision';
import type { TestApp } from '../support/harness';
import { startTestApp } from '../support/harness';

/**
 * 包联 over the API on the dev server and FerretDB: pairings in the JSON org import, the CSV
 * import (`POST /api/v1/org/import/pairings`), one at a time (`/api/v1/org/pairings`), the org
 * revision bump, problems named by field or cell with nothing written, and scope on reads.
 */
interface ErrorBody {
  error: { code: string; message: string; details: Array<{ path: string; message: string }> };
}
interface PairingPage {
  items: Array<Record<string, unknown>>;
  total: number;
}

let app: TestApp;

/** Two communities of a street, a compound in each, a co-building unit, two cadres. */
const roster = {
  units: [
    { id: 'pr-county', name: '西乡县', type: 'county', parentId: null },
    { id: 'pr-street', name: '城北街道', type: 'street', parentId: 'pr-county' },
    { id: 'pr-east', name: '东风社区', type: 'community', parentId: 'pr-street' },
    { id: 'pr-west', name: '西城社区', type: 'community', parentId: 'pr-street' },
    { id: 'pr-east-c1', name: '幸福小区', type: 'compound', parentId: 'pr-east' },
    { id: 'pr-west-c1', name: '和谐小区', type: 'compound', parentId: 'pr-west' },
    { id: 'pr-bureau', name: '县水利局', type: 'cobuilding', parentId: 'pr-county' },
  ],
  people: [
    { id: 'pr-leader', name: '刘县长' },
    { id: 'pr-cadre', name: '王干部', email: 'cadre@example.test' },
  ],
  posts: [],
  pairings: [
    { unitId: 'pr-east', kind: 'leader', personId: 'pr-leader' },
    {
      unitId: 'pr-east-c1',
      kind: 'cadre',
      personId: 'pr-cadre',
      validFrom: '2026-01-01',
      validUntil: '2026-12-31',
    },
    { unitId: 'pr-west-c1', kind: 'unit', partnerUnitId: 'pr-bureau' },
  ],
};

beforeAll(async () => {
  app = await startTestApp('pairings-api', { worker: false });
  const res = await app.http('POST', '/api/v1/org/import', { token: app.adminKey, body: roster });
  expect(res.status).toBe(200);
});

afterAll(async () => {
  await app?.stop();
});

function postCsv(csv: string) {
  return app.http<ErrorBody & { pairings: number }>('POST', '/api/v1/org/import/pairings', {
    token: app.adminKey,
    rawBody: csv,
    headers: { 'content-type': 'text/csv; charset=utf-8' },
  });
}

describe('pairings in the org import', () => {
  it('when an admin imports pairings twice, then each is stored once and the unit lists who looks after it with names', async () => {
    // Act
    const again = await app.http('POST', '/api/v1/org/import', {
      token: app.adminKey,
      body: roster,
    });
    const east = await app.http<PairingPage>('GET', '/api/v1/org/pairings?unitId=pr-east-c1', {
      token: app.adminKey,
    });
    const staff = await app.signIn('pr-unit-reader', ['staff'], ['pr-east']);
    const unit = await app.http<{ pairings: unknown[] }>('GET', '/api/v1/org/units/pr-east-c1', {
      token: staff,
    });

    // Assert
    expect(again.body).toEqual({ units: 7, people: 2, posts: 0, pairings: 3 });
    expect(await app.db.models.Pairing.countDocuments({ unitId: /^pr-/ })).toBe(3);
    expect(east.body.items).toEqual([
      {
        id: 'cadre:pr-east-c1:person:pr-cadre',
        unitId: 'pr-east-c1',
        unitName: '幸福小区',
        kind: 'cadre',
        personId: 'pr-cadre',
        personName: '王干部',
        validFrom: '2026-01-01',
        validUntil: '2026-12-31',
      },
    ]);
    // The unit view shows who is paired with it, as the list does.
    expect(unit.body.pairings).toEqual(east.body.items);
  });

  it('when a pairing names unknown units or people, then each is named at its field and nothing of the import is written', async () => {
    // Arrange
    const revision = await readOrgRevision(app.db.models);

    // Act
    const res = await app.http<ErrorBody>('POST', '/api/v1/org/import', {
      token: app.adminKey,
      body: {
        units: [{ id: 'pr-new', name: '新小区', type: 'compound', parentId: 'pr-east' }],
        pairings: [
          { unitId: 'pr-nowhere', kind: 'cadre', personId: 'pr-cadre' },
          { unitId: 'pr-new', kind: 'unit', partnerUnitId: 'pr-gone' },
          { unitId: 'pr-new', kind: 'cadre', personId: 'pr-nobody' },
        ],
      },
    });

    // Assert
    expect(res.status).toBe(422);
    expect(res.body.error.details).toEqual([
      { path: 'body.pairings[0].unitId', message: 'unknown unit "pr-nowhere"' },
      { path: 'body.pairings[1].partnerUnitId', message: 'unknown unit "pr-gone"' },
      { path: 'body.pairings[2].personId', message: 'unknown person "pr-nobody"' },
    ]);
    expect(await app.db.models.Unit.findById('pr-new').lean()).toBeNull();
    expect(await readOrgRevision(app.db.models)).toBe(revision);
  });

  it('when a pairing is malformed, then the field is named: a kind, both partners, a period backwards', async () => {
    const res = await app.http<ErrorBody>('POST', '/api/v1/org/import', {
      token: app.adminKey,
      body: {
        pairings: [
          { unitId: 'pr-east', kind: 'cader', personId: 'pr-cadre' },
          { unitId: 'pr-east', kind: 'unit', personId: 'pr-cadre', partnerUnitId: 'pr-bureau' },
          {
            unitId: 'pr-east',
            kind: 'cadre',
            personId: 'pr-cadre',
            validFrom: '2026-05-01',
            validUntil: '2026-04-30',
          },
        ],
      },
    });

    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d) => d.path)).toEqual([
      'body.pairings[0].kind',
      'body.pairings[1].partnerUnitId',
      'body.pairings[2].validUntil',
    ]);
    expect(res.body.error.details[0]!.message).toContain('"cader" is not a pairing kind');
  });
});

describe('pairings from a spreadsheet (CSV)', () => {
  it('when an admin imports a pairings CSV, then they are stored and the org revision moves', async () => {
    // Arrange
    const revision = await readOrgRevision(app.db.models);
    const csv = [
      '\uFEFFunitId,kind,personId,partnerUnitId,validFrom,validUntil',
      'pr-west,leader,pr-leader,,,',
      'pr-east-c1,unit,,pr-bureau,2026-01-01,',
    ].join('\r\n');

    // Act
    const res = await postCsv(csv);

    // Assert
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ units: 0, people: 0, posts: 0, pairings: 2 });
    expect(await readOrgRevision(app.db.models)).toBeGreaterThan(revision);
    const stored = await app.db.models.Pairing.findById('unit:pr-east-c1:unit:pr-bureau').lean();
    expect(stored).toMatchObject({ validFrom: '2026-01-01', validUntil: null });
  });

  it('when rows are bad, then each problem names its cell and nothing is written', async () => {
    const before = await app.db.models.Pairing.countDocuments({});
    const csv = [
      'unitId,kind,personId,partnerUnitId',
      'pr-west-c1,cadre,pr-cadre,',
      'pr-west-c1,cadre,pr-nobody,',
      'pr-nowhere,unit,,pr-bureau',
      'pr-west-c1,cadre,,',
    ].join('\n');

    const res = await postCsv(csv);

    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([
      {
        path: 'row 5, column personId',
        message: 'give either personId (a person) or partnerUnitId (a unit), not both',
      },
    ]);
    const fixed = await postCsv(csv.split('\n').slice(0, 4).join('\n'));
    expect(fixed.status).toBe(422);
    expect(fixed.body.error.details).toEqual([
      { path: 'row 3, column personId', message: 'unknown person "pr-nobody"' },
      { path: 'row 4, column unitId', message: 'unknown unit "pr-nowhere"' },
    ]);
    expect(await app.db.models.Pairing.countDocuments({})).toBe(before);
  });
});

describe('/api/v1/org/pairings', () => {
  it('when an admin pairs a cadre, changes the period and ends it, then 201, 200 and 204, each bumping the org revision', async () => {
    const body = { unitId: 'pr-west-c1', kind: 'cadre', personId: 'pr-cadre' };
    const r0 = await readOrgRevision(app.db.models);
    const created = await app.http('POST', '/api/v1/org/pairings', {
      token: app.adminKey,
      body,
    });
    const r1 = await readOrgRevision(app.db.models);
    const changed = await app.http<Record<string, unknown>>('POST', '/api/v1/org/pairings', {
      token: app.adminKey,
      body: { ...body, validUntil: '2026-06-30' },
    });
    const removed = await app.http(
      'DELETE',
      '/api/v1/org/pairings/cadre:pr-west-c1:person:pr-cadre',
      { token: app.adminKey },
    );
    const again = await app.http(
      'DELETE',
      '/api/v1/org/pairings/cadre:pr-west-c1:person:pr-cadre',
      { token: app.adminKey },
    );

    expect([created.status, changed.status, removed.status, again.status]).toEqual([
      201, 200, 204, 404,
    ]);
    expect(changed.body).toMatchObject({ personName: '王干部', validUntil: '2026-06-30' });
    expect(r1).toBeGreaterThan(r0);
    expect(await readOrgRevision(app.db.models)).toBeGreaterThan(r1);
  });

  it('when the pairing names an unknown person, then 422 at body.personId', async () => {
    const res = await app.http<ErrorBody>('POST', '/api/v1/org/pairings', {
      token: app.adminKey,
      body: { unitId: 'pr-west-c1', kind: 'cadre', personId: 'pr-nobody' },
    });

    expect(res.status).toBe(422);
    expect(res.body.error.details).toEqual([
      { path: 'body.personId', message: 'unknown person "pr-nobody"' },
    ]);
  });

  it('when a dispatcher or staff of one community lists pairings, then only those of units in their scope, without contacts', async () => {
    const dispatcher = await app.signIn('pr-east-dispatcher', ['dispatcher'], ['pr-east']);
    const staff = await app.signIn('pr-west-staff', ['staff'], ['pr-west']);
    const resident = await app.signIn('pr-resident', ['resident']);

    const east = await app.http<PairingPage>('GET', '/api/v1/org/pairings', { token: dispatcher });
    const west = await app.http<PairingPage>('GET', '/api/v1/org/pairings?kind=leader', {
      token: staff,
    });
    const refused = await app.http('GET', '/api/v1/org/pairings', { token: resident });
    const write = await app.http('POST', '/api/v1/org/pairings', {
      token: dispatcher,
      body: { unitId: 'pr-east', kind: 'cadre', personId: 'pr-cadre' },
    });

    expect(east.body.items.map((p) => p.id)).toEqual([
      'cadre:pr-east-c1:person:pr-cadre',
      'leader:pr-east:person:pr-leader',
      'unit:pr-east-c1:unit:pr-bureau',
    ]);
    expect(JSON.stringify(east.body)).not.toContain('cadre@example.test');
    expect(west.body.items.map((p) => p.id)).toEqual(['leader:pr-west:person:pr-leader']);
    expect(refused.status).toBe(403);
    expect(write.status).toBe(403);
  });
});
