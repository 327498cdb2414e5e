import type { TestApp } from '../support/harness';
import { idempotencyKey, startTestApp, uniqueAddress, waitFor } from '../support/harness';

/**
 * The `grant` step through the API on the dev server (definitions/volunteer-registration.yaml,
 * docs 6.17): a resident files a registration from their own account, the community's
 * dispatcher approves it, and the org API shows the new volunteer with the community's
 * `volunteer` post and the resident's account (`account: requester`): the resident reads their
 * own points as that person at once, no admin linking. Filing again, in another community, grants
 * that same person a second post: one person for the account.
 */
let app: TestApp;
const tokens: Record<string, string> = {};
let residentId = '';

interface CaseBody {
  id: string;
  status: string;
  timeline: Array<{ type: string; stepId?: string; detail?: Record<string, unknown> }>;
}

interface TaskBody {
  id: string;
  stepId: string;
  status: string;
}

interface PersonBody {
  id: string;
  name: string;
  userId?: string;
  posts: Array<{ unitId: string; role: string }>;
}

async function account(username: string, roles: string[], unitIds: string[]): Promise<string> {
  tokens[username] = await app.signIn(username, roles, unitIds);
  const user = await app.db.models.User.findOne({ username }).lean();
  return String(user!._id);
}

beforeAll(async () => {
  app = await startTestApp('volunteer-grant');
  const dispatcher = await account('vg-dispatcher', ['dispatcher'], ['vg-street']);
  residentId = await account('vg-resident', ['resident'], []);
  const imported = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 'vg-street', name: '幸福街道', type: 'street', parentId: null },
        { id: 'vg-east', name: '东关社区', type: 'community', parentId: 'vg-street' },
        { id: 'vg-east-grid', name: '东关一网格', type: 'grid', parentId: 'vg-east' },
        { id: 'vg-west', name: '西关社区', type: 'community', parentId: 'vg-street' },
        { id: 'vg-west-grid', name: '西关一网格', type: 'grid', parentId: 'vg-west' },
      ],
      people: [
        {
          id: 'vg-p-dispatcher',
          name: '街道派单员',
          email: uniqueAddress('vg-dispatcher'),
          userId: dispatcher,
        },
      ],
      posts: [
        { unitId: 'vg-east', role: 'dispatcher', personId: 'vg-p-dispatcher' },
        { unitId: 'vg-west', role: 'dispatcher', personId: 'vg-p-dispatcher' },
      ],
    },
  });
  expect(imported.status).toBe(200);
}, 60_000);

afterAll(async () => {
  await app?.stop();
});

/** The resident files a registration in `unitId` from their own account. */
async function file(unitId: string, serviceArea: string, phone: string): Promise<string> {
  const started = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: tokens['vg-resident'],
    headers: { 'idempotency-key': idempotencyKey() },
    body: {
      definitionKey: 'volunteer-registration',
      unitId,
      data: {
        applicantName: '王秀英',
        phone,
        contactEmail: uniqueAddress('vg-applicant'),
        skills: ['助老助残'],
        availability: ['周末'],
        serviceArea,
      },
    },
  });
  expect({ status: started.status, body: started.body }).toMatchObject({ status: 201 });
  return started.body.id;
}

/** The dispatcher claims the review and approves it; the case closed. */
async function approve(caseId: string): Promise<CaseBody> {
  const token = tokens['vg-dispatcher'];
  const review = await waitFor('the review task', async () => {
    const res = await app.http<{ items: TaskBody[] }>(
      'GET',
      `/api/v1/tasks?view=available&caseId=${caseId}`,
      { token },
    );
    return res.body.items?.find((t) => t.stepId === 'review' && t.status === 'open');
  });
  const claimed = await app.http('POST', `/api/v1/tasks/${review.id}/claim`, { token });
  expect(claimed.status).toBe(200);
  const completed = await app.http('POST', `/api/v1/tasks/${review.id}/complete`, {
    token,
    body: { outcome: 'approved', form: { opinion: '材料齐全，同意注册' } },
  });
  expect({ status: completed.status, body: completed.body }).toMatchObject({ status: 200 });
  return waitFor('the registration closed', async () => {
    const res = await app.http<CaseBody>('GET', `/api/v1/cases/${caseId}`, {
      token: app.adminKey,
    });
    return res.status === 200 && res.body.status !== 'open' ? res.body : undefined;
  });
}

function grantedOf(kase: CaseBody): Record<string, unknown> {
  const granted = kase.timeline.filter((e) => e.type === 'org.granted');
  expect(granted).toHaveLength(1);
  return granted[0]!.detail ?? {};
}

it('when a resident files a volunteer registration from their account and the dispatcher approves it, then the org API shows them as the community’s volunteer signing in with that account, and a second filing elsewhere grants the same person', async () => {
  // Act: the first filing, approved
  const first = await approve(await file('vg-east', 'vg-east-grid', '13811112222'));
  const firstGrant = grantedOf(first);
  const personId = String(firstGrant.personId);
  const person = await app.http<PersonBody>('GET', `/api/v1/org/people/${personId}`, {
    token: app.adminKey,
  });
  const volunteers = await app.http<{ items: Array<{ id: string }> }>(
    'GET',
    '/api/v1/org/people?unitId=vg-east&role=volunteer',
    { token: app.adminKey },
  );
  const ownPoints = await app.http('GET', `/api/v1/points/people/${personId}`, {
    token: tokens['vg-resident'],
  });
  // …the same resident files again, in the neighbouring community, with another phone
  const second = await approve(await file('vg-west', 'vg-west-grid', '13933334444'));
  const secondGrant = grantedOf(second);
  const after = await app.http<PersonBody>('GET', `/api/v1/org/people/${personId}`, {
    token: app.adminKey,
  });
  const linked = await app.db.models.Person.find({ userId: residentId }, { _id: 1 }).lean();

  // Assert: approved and granted, the person new and linked to the resident's account
  expect(first.status).toBe('closed');
  expect(firstGrant).toEqual({
    post: 'volunteer',
    unitId: 'vg-east',
    personId,
    created: true,
    alreadyHeld: false,
    account: 'linked',
  });
  expect(person.status).toBe(200);
  expect(person.body).toMatchObject({ id: personId, name: '王秀英', userId: residentId });
  expect(person.body.posts.map((p) => [p.unitId, p.role])).toEqual([['vg-east', 'volunteer']]);
  expect(volunteers.body.items.map((p) => p.id)).toEqual([personId]);
  // …the resident acts as that person at once: their own points, no admin linking
  expect(ownPoints.status).toBe(200);
  // …the second filing granted the same person a second post, no second person
  expect(second.status).toBe('closed');
  expect(secondGrant).toEqual({
    post: 'volunteer',
    unitId: 'vg-west',
    personId,
    created: false,
    alreadyHeld: false,
    account: 'linked',
  });
  expect(after.body.posts.map((p) => [p.unitId, p.role]).sort()).toEqual([
    ['vg-east', 'volunteer'],
    ['vg-west', 'volunteer'],
  ]);
  expect(linked.map((p) => p._id)).toEqual([personId]);
});
