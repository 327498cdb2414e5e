import { randomBytes } from 'node:crypto';
import type { ActingPrincipal } from '../common/case';
import type { OrgImport } from '../services/org-import';
import { expectStatus, http } from './http';

/**
 * What the benchmark runs: the two-task process, the queues and databases of the sides, the
 * accounts and the org tree the candidates are resolved from.
 */

export const DEFINITION_KEY = 'bench-two-tasks';
/**
 * Each side has its own task queue and its own database (on FerretDB/SQLite, its own file): some
 * writes there cost in proportion to the collection, so a side must not pay for another's data.
 */
export const QUEUES = {
  api: 'bench-engine-api',
  client: 'bench-engine-client',
  baseline: 'bench-baseline',
};
export const DATABASES = {
  api: 'bench_engine_api',
  client: 'bench_engine_client',
  baseline: 'bench_baseline',
};
export const ADMIN_KEY = `gfk_bench_${randomBytes(24).toString('base64url')}`;
const PASSWORD = 'bench password 0123';
export const UNIT_ID = 'g1';
export const CASE_DATA = { category: '环境卫生' };

/** Two human tasks and an end; candidates come from the org tree; no mail, no SLA clocks. */
export const DEFINITION = `
key: ${DEFINITION_KEY}
name: 基准测试两步办理
starters: [resident, dispatcher, admin]
input:
  fields:
    - { name: category, label: 诉求类别, type: string, required: true }
steps:
  - id: dispatch
    name: 派单
    type: task
    announce: false
    candidates: [{ role: dispatcher, unit: community }]
    outcomes: [{ id: assign, name: 派单 }]
  - id: serve
    name: 办理
    type: task
    announce: false
    candidates: [{ role: grid-worker, unit: case }]
    outcomes: [{ id: done, name: 已办结 }]
  - { id: closed, name: 办结, type: end }
`;

export interface Account {
  userId: string;
  token: string;
  roles: ActingPrincipal['roles'];
}

export interface People {
  resident: Account;
  dispatcher: Account;
  worker: Account;
}

/** The two tasks each side works through, in order, and who does each. */
export const STEPS = [
  {
    stepId: 'dispatch',
    name: '派单',
    outcome: { id: 'assign', name: '派单' },
    who: 'dispatcher',
    person: { id: 'p-disp', unitId: 'c1' },
  },
  {
    stepId: 'serve',
    name: '办理',
    outcome: { id: 'done', name: '已办结' },
    who: 'worker',
    person: { id: 'p-worker', unitId: UNIT_ID },
  },
] as const;

/** The org tree the candidates are resolved from: a street, its community, one grid. */
export function orgOf(people: People): OrgImport {
  return {
    units: [
      { id: 's1', name: '东街道', type: 'street', parentId: null },
      { id: 'c1', name: '东社区', type: 'community', parentId: 's1' },
      { id: UNIT_ID, name: '第一网格', type: 'grid', parentId: 'c1' },
    ],
    people: [
      { id: STEPS[0].person.id, name: '派单员', userId: people.dispatcher.userId },
      { id: STEPS[1].person.id, name: '网格员', userId: people.worker.userId },
    ],
    posts: [
      { unitId: 'c1', role: 'dispatcher', personId: STEPS[0].person.id },
      { unitId: UNIT_ID, role: 'grid-worker', personId: STEPS[1].person.id },
    ],
  };
}

/** Accounts and the org tree through the API, into the engine/API side's database. */
export async function createAccounts(baseUrl: string): Promise<People> {
  const account = async (
    username: string,
    roles: Account['roles'],
    unitIds: string[],
  ): Promise<Account> => {
    const created = await http<{ id: string }>(baseUrl, 'POST', '/api/v1/users', {
      token: ADMIN_KEY,
      body: { username, displayName: username, password: PASSWORD, roles, unitIds },
    });
    expectStatus(`creating ${username}`, created, 201);
    const login = await http<{ token: string }>(baseUrl, 'POST', '/api/v1/auth/login', {
      body: { username, password: PASSWORD },
    });
    expectStatus(`signing in ${username}`, login, 200);
    return { userId: created.body.id, token: login.body.token, roles };
  };
  const people: People = {
    resident: await account('bench-resident', ['resident'], []),
    dispatcher: await account('bench-dispatcher', ['dispatcher'], ['c1']),
    worker: await account('bench-worker', ['staff'], [UNIT_ID]),
  };
  const imported = await http(baseUrl, 'POST', '/api/v1/org/import', {
    token: ADMIN_KEY,
    body: orgOf(people),
  });
  expectStatus('importing the org tree', imported, 200);
  return people;
}
