import { randomBytes } from 'node:crypto';
import { createUserBody } from '../services/account-input';
import { importBody } from '../services/org-input';
import { createScopeResolver } from '../services/scope';
import { createCatalogueService } from '../services/catalogue';
import { createOrgSnapshot } from '../common/org-snapshot';
import type { AccountService } from '../services/accounts';
import { createAccountService } from '../services/accounts';
import { createRateLimits, limitsConfigOf } from '../services/limits';
import { createPhoneKeys } from '../services/phone-keys';
import type { OrgImport } from '../services/org-import';
import { postIdOf, sameFields } from '../services/org-import';
import type { OrgService } from '../services/org';
import { createOrgService } from '../services/org';
import type { AppConfig } from '../common/config';
import type { DefinitionSnapshot } from '../lang/definition';
import type { Principal } from '../services/auth';
import { Client, Connection } from '@temporalio/client';
import type { CaseImportReport, CaseImportRequest } from '../services/case-import';
import { createCaseImportService } from '../services/case-import';
import { caseIdFor } from '../services/cases';
import { createDefinitionService } from '../services/definitions';
import { createMailRenderer } from '../mail/renderer';
import { ConfigError, loadConfig } from '../common/config';
import { dataConverterFor } from '../common/payload-codec';
import { OrgTree } from '../common/org-tree';
import type { Models } from '../models';
import { connectDatabase } from '../models';
import type { DemoAccount, DemoCounty } from './county';
import { DEMO_COUNTY_ID, DEMO_PASSWORD, generateDemoCounty, summarizeDemoCounty } from './county';
import type { Rng } from './random';
import { HISTORY_DAYS, planHistory } from './history';
import { createRng } from './random';
import { DEMO_CATALOGUES } from './places';
import { pairingIdOf } from '../services/pairings';

/**
 * Loads the demo county into a store through the real services: the org import service (the
 * same checks as `POST /api/v1/org/import`, after the route's own zod schema) and the account
 * service (passwords hashed as for `POST /api/v1/users`). Idempotent: a second run finds
 * everything in place, writes nothing and says so. A store holding org data that is not the
 * demo county's is left alone unless forced.
 *
 * The work is a list of stages run in order ({@link DEMO_STAGES}). The case history is a later
 * stage: see "Adding a stage" in demo/README.md.
 */

export interface DemoSeedDeps {
  models: Models;
  org: OrgService;
  accounts: AccountService;
  clock: () => Date;
  /** For the case history: the processes to draw from and the case import. Without it, skipped. */
  history?: {
    latestSnapshots(): Promise<DefinitionSnapshot[]>;
    importCases(principal: Principal, request: CaseImportRequest): Promise<CaseImportReport>;
  };
  /** Progress lines (`npm run seed` prints them; `npm start` keeps quiet). */
  log?: (line: string) => void;
}

/** What every stage gets: the generated county and what earlier stages produced. */
export interface DemoSeedContext {
  deps: DemoSeedDeps;
  county: DemoCounty;
  /** Account id of each demo username; filled by the accounts stage. */
  userIds: Map<string, string>;
  /** The stage's own seeded stream (forked from the county's seed by stage name). */
  rng: Rng;
}

export interface DemoStageResult {
  /** Documents this stage created or changed; 0 when it found everything in place. */
  changed: number;
  /** One line for the report, e.g. `718 units, 796 people, 1195 posts (all new)`. */
  summary: string;
}

/**
 * A step of the seed. A stage must be idempotent on its own: it checks what is stored and
 * writes only what is missing or different, reporting `changed: 0` when there was nothing to do.
 */
export interface DemoSeedStage {
  name: string;
  run(context: DemoSeedContext): Promise<DemoStageResult>;
}

/** Demo sign-in accounts, created through the account service with {@link DEMO_PASSWORD}. */
export const accountsStage: DemoSeedStage = {
  name: 'accounts',
  async run({ deps, county, userIds }) {
    let created = 0;
    // Four at a time (chosen): each password hash is scrypt at N=2^17 (about 0.4 s of one core),
    // run on libuv's thread pool, so the demo's accounts do not hold `npm start` for seconds.
    const pending = [...county.accounts];
    const createNext = async (): Promise<void> => {
      for (let account = pending.shift(); account; account = pending.shift()) {
        const stored = await deps.models.User.findOne({ username: account.username }, { _id: 1 })
          .lean()
          .exec();
        if (stored) {
          userIds.set(account.username, stored._id);
          continue;
        }
        const user = await deps.accounts.createUser(createUserBody.parse(accountInput(account)));
        userIds.set(account.username, user.id);
        created++;
      }
    };
    await Promise.all(Array.from({ length: 4 }, () => createNext()));
    const existing = county.accounts.length - created;
    return {
      changed: created,
      summary: `${county.accounts.length} accounts (${created} new, ${existing} already there)`,
    };
  },
};

/**
 * Units, people (linked to their accounts) and posts, through the org import service. Rows that
 * already hold the generated values are counted, not written; the import itself skips them too.
 */
export const orgStage: DemoSeedStage = {
  name: 'org tree',
  async run({ deps, county, userIds }) {
    const input = orgImportOf(county, userIds);
    const { Unit, Person, Post } = deps.models;
    const ids = (list: Array<{ id: string }>) => list.map((item) => item.id);
    const storedUnits = new Map(
      (await Unit.find({ _id: { $in: ids(input.units) } }).lean()).map((u) => [u._id, u]),
    );
    const storedPeople = new Map(
      (await Person.find({ _id: { $in: ids(input.people) } }).lean()).map((p) => [p._id, p]),
    );
    const postIds = input.posts.map(postIdOf);
    const storedPosts = new Set(
      (await Post.find({ _id: { $in: postIds } }, { _id: 1 }).lean()).map((p) => p._id),
    );
    const changedUnits = input.units.filter(
      ({ id, ...fields }) => !sameFields(storedUnits.get(id), fields),
    ).length;
    const changedPeople = input.people.filter(
      ({ id, ...fields }) => !sameFields(storedPeople.get(id), fields),
    ).length;
    const newPosts = postIds.filter((id) => !storedPosts.has(id)).length;
    const pairingIds = (input.pairings ?? []).map(pairingIdOf);
    const storedPairings = new Set(
      (await deps.models.Pairing.find({ _id: { $in: pairingIds } }, { _id: 1 }).lean()).map(
        (p) => p._id,
      ),
    );
    const newPairings = pairingIds.filter((id) => !storedPairings.has(id)).length;
    const changed = changedUnits + changedPeople + newPosts + newPairings;
    if (changed > 0) await deps.org.importOrg(input);
    const totals = `${input.units.length} units, ${input.people.length} people, ${input.posts.length} posts, ${pairingIds.length} pairings`;
    return {
      changed,
      summary:
        changed === 0
          ? `${totals} (all in place)`
          : `${totals} (written: ${changedUnits} units, ${changedPeople} people, ${newPosts} posts, ${newPairings} pairings)`,
    };
  },
};

/**
 * The dispatch catalogues (demo/places.ts), published through the catalogue service; publishing
 * the entries of the current revision again publishes nothing, so a second run changes nothing.
 */
export const catalogueStage: DemoSeedStage = {
  name: 'dispatch catalogue',
  async run({ deps }) {
    const catalogue = createCatalogueService({
      models: deps.models,
      snapshot: createOrgSnapshot({ models: deps.models }),
      clock: deps.clock,
    });
    let changed = 0;
    for (const { ownerUnitId, entries } of DEMO_CATALOGUES) {
      const result = await catalogue.publish(SEED_PRINCIPAL, ownerUnitId, [...entries]);
      if (result.created) changed++;
    }
    return {
      changed,
      summary: `${DEMO_CATALOGUES.length} catalogues (${changed === 0 ? 'all in place' : `${changed} published`})`,
    };
  },
};

/** Who the seed imports history as: the seed itself, with the admin role the import needs. */
const SEED_PRINCIPAL: Principal = {
  kind: 'apiKey',
  id: 'demo-seed',
  roles: ['admin'],
  unitIds: [],
};
/** Records per import call (the import takes at most MAX_IMPORT_BATCH). */
const HISTORY_BATCH = 100;

/**
 * A few months of closed cases in every process residents and staff start (demo/history.ts),
 * through the case import; cases already there (by their seeded external id) are not sent again.
 */
export const historyStage: DemoSeedStage = {
  name: 'case history',
  async run({ deps, county, userIds, rng }) {
    if (!deps.history) return { changed: 0, summary: 'skipped (no Temporal connection)' };
    const definitions = await deps.history.latestSnapshots();
    const plan = planHistory(county, definitions, userIds, rng, deps.clock());
    const ids = plan.records.map((r) => caseIdFor('import', r.externalId));
    const stored = new Set(
      (await deps.models.Case.find({ _id: { $in: ids } }, { _id: 1 }).lean()).map((d) => d._id),
    );
    const missing = plan.records.filter((_, i) => !stored.has(ids[i]!));
    let imported = 0;
    for (let start = 0; start < missing.length; start += HISTORY_BATCH) {
      const report = await deps.history.importCases(SEED_PRINCIPAL, {
        batch: `demo-history-${start / HISTORY_BATCH + 1}`,
        cases: missing.slice(start, start + HISTORY_BATCH),
      });
      imported += report.imported;
    }
    const processes = new Set(plan.records.map((r) => r.definitionKey)).size;
    return {
      changed: imported,
      summary: `${plan.records.length} closed cases of ${processes} processes over ${HISTORY_DAYS} days (${imported} new)`,
    };
  },
};

/**
 * The stages `npm run seed` and `npm start` run, in order. The case-history stage (a few months
 * of cases in every process) goes after the org tree once the process definitions exist.
 */
export const DEMO_STAGES: readonly DemoSeedStage[] = [
  accountsStage,
  orgStage,
  catalogueStage,
  historyStage,
];

/** How many stored units, people and posts are not the demo county's. */
export interface ForeignOrgData {
  units: number;
  people: number;
  posts: number;
}

export interface DemoAccountView {
  username: string;
  password: string;
  displayName: string;
  persona: string;
  roles: string[];
}

export type DemoSeedReport =
  | { status: 'refused'; foreign: ForeignOrgData }
  | {
      status: 'seeded' | 'unchanged';
      /** Whether org data other than the demo county's was there (only with `force`). */
      foreign: ForeignOrgData | null;
      stages: Array<{ name: string } & DemoStageResult>;
      accounts: DemoAccountView[];
      counts: ReturnType<typeof summarizeDemoCounty>;
      ms: number;
    };

export async function seedDemo(
  deps: DemoSeedDeps,
  options: { force?: boolean; county?: DemoCounty; stages?: readonly DemoSeedStage[] } = {},
): Promise<DemoSeedReport> {
  const started = Date.now();
  const county = options.county ?? generateDemoCounty();
  assertValid(county);
  const foreign = await foreignOrgData(deps.models, county);
  const hasForeign = foreign.units + foreign.people + foreign.posts > 0;
  if (hasForeign && !options.force) return { status: 'refused', foreign };

  const userIds = new Map<string, string>();
  const stages: Array<{ name: string } & DemoStageResult> = [];
  for (const stage of options.stages ?? DEMO_STAGES) {
    const rng = createRng(county.seed).fork(`stage/${stage.name}`);
    const result = await stage.run({ deps, county, userIds, rng });
    deps.log?.(`${stage.name}: ${result.summary}`);
    stages.push({ name: stage.name, ...result });
  }
  return {
    status: stages.some((s) => s.changed > 0) ? 'seeded' : 'unchanged',
    foreign: hasForeign ? foreign : null,
    stages,
    accounts: demoAccountViews(county.accounts),
    counts: summarizeDemoCounty(county),
    ms: Date.now() - started,
  };
}

export type DemoStartResult =
  | { status: 'seeded'; report: Extract<DemoSeedReport, { status: 'seeded' | 'unchanged' }> }
  /** The demo county was loaded before: its accounts still there are listed. */
  | { status: 'present'; accounts: DemoAccountView[] }
  /** The store holds other org data: the demo county is not added. */
  | { status: 'skipped' };

/**
 * `npm start`: loads the demo county when the store has no units yet; otherwise only lists the
 * demo accounts if an earlier start loaded it.
 */
export async function seedDemoOnEmptyStore(
  deps: DemoSeedDeps,
  options: { stages?: readonly DemoSeedStage[] } = {},
): Promise<DemoStartResult> {
  const county = generateDemoCounty();
  if ((await deps.models.Unit.countDocuments({}).exec()) === 0) {
    const report = await seedDemo(deps, {
      county,
      ...(options.stages ? { stages: options.stages } : {}),
    });
    if (report.status === 'refused') return { status: 'skipped' }; // people or posts without units
    return { status: 'seeded', report };
  }
  if (!(await deps.models.Unit.exists({ _id: DEMO_COUNTY_ID }))) return { status: 'skipped' };
  const stored = new Set(
    (
      await deps.models.User.find(
        { username: { $in: county.accounts.map((a) => a.username) } },
        { username: 1 },
      ).lean()
    ).map((u) => u.username),
  );
  return {
    status: 'present',
    accounts: demoAccountViews(county.accounts.filter((a) => stored.has(a.username))),
  };
}

/** The services over their own connection to `config.MONGODB_URI`, for the seed outside the API. */
export async function openDemoSeedDeps(
  config: Pick<
    AppConfig,
    | 'MONGODB_URI'
    | 'SESSION_TTL_HOURS'
    | 'TEMPORAL_ADDRESS'
    | 'TEMPORAL_NAMESPACE'
    | 'TEMPORAL_TASK_QUEUE'
    | 'TEMPORAL_CODEC_KEYS'
  >,
  log?: (line: string) => void,
  options: { history?: boolean } = {},
): Promise<{ deps: DemoSeedDeps; close(): Promise<void> }> {
  const db = await connectDatabase(config.MONGODB_URI);
  const clock = () => new Date();
  const models = db.models;
  const scope = createScopeResolver(models);
  let connection: Connection | undefined;
  let history: DemoSeedDeps['history'];
  if (options.history) {
    // The import runs as a workflow: a worker on the task queue must be running (npm start).
    connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
    const temporal = new Client({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      dataConverter: dataConverterFor(config.TEMPORAL_CODEC_KEYS),
    });
    const definitions = createDefinitionService(models, createMailRenderer().templateNames);
    const imports = createCaseImportService({
      temporal,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      definitions,
      scope,
      models,
    });
    history = {
      latestSnapshots: () => definitions.latestSnapshots(),
      importCases: (principal, request) => imports.importCases(principal, request),
    };
  }
  return {
    deps: {
      models,
      clock,
      org: createOrgService({ models, scope, clock }),
      accounts: createAccountService({
        models,
        clock,
        sessionTtlHours: config.SESSION_TTL_HOURS,
        // The seed signs nobody in: the default limits serve.
        limits: createRateLimits({
          db: db.connection.db!,
          config: limitsConfigOf(loadConfig({})),
          // No counter is spent, so no deployment secret is needed to key one.
          keys: createPhoneKeys(randomBytes(32).toString('hex')),
        }),
      }),
      ...(history ? { history } : {}),
      ...(log ? { log } : {}),
    },
    close: async () => {
      await connection?.close();
      await db.close();
    },
  };
}

/** `DEMO_SEED`: `auto` (the default: load the demo county into an empty store) or `off`. */
export function demoSeedMode(env: NodeJS.ProcessEnv = process.env): 'auto' | 'off' {
  const value = (env.DEMO_SEED ?? '').trim().toLowerCase();
  if (value === '' || value === 'auto' || value === 'on') return 'auto';
  if (value === 'off') return 'off';
  throw new ConfigError([`DEMO_SEED: "${env.DEMO_SEED}" is not auto or off`]);
}

/** The import with each account's person linked to it. */
export function orgImportOf(county: DemoCounty, userIds: ReadonlyMap<string, string>): OrgImport {
  const userOf = new Map<string, string>();
  for (const account of county.accounts) {
    const userId = userIds.get(account.username);
    if (userId) userOf.set(account.personId, userId);
  }
  return {
    units: county.units,
    people: county.people.map((person) => {
      const userId = userOf.get(person.id);
      return userId ? { ...person, userId } : person;
    }),
    posts: county.posts,
    pairings: county.pairings,
  };
}

/**
 * The generated county through the API's own request schemas and the org tree's checks, before
 * anything is written: a generator bug must not leave half a county behind.
 */
function assertValid(county: DemoCounty): void {
  const placeholderIds = new Map(county.accounts.map((a) => [a.username, 'usr_placeholder']));
  const parsed = importBody.safeParse(orgImportOf(county, placeholderIds));
  const accounts = county.accounts.map((a) => createUserBody.safeParse(accountInput(a)));
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)),
    ...accounts.flatMap((result, i) =>
      result.success
        ? []
        : result.error.issues.map(
            (issue) => `accounts[${i}].${issue.path.join('.')}: ${issue.message}`,
          ),
    ),
  ];
  if (problems.length > 0) {
    throw new Error(`The demo county does not validate:\n  ${problems.slice(0, 20).join('\n  ')}`);
  }
  new OrgTree(county.units, county.posts); // unknown parents, cycles, posts in unknown units
}

async function foreignOrgData(models: Models, county: DemoCounty): Promise<ForeignOrgData> {
  const unitIds = county.units.map((u) => u.id);
  const personIds = county.people.map((p) => p.id);
  const postIds = county.posts.map((p) => `${p.unitId}:${p.role}:${p.personId}`);
  return {
    units: await models.Unit.countDocuments({ _id: { $nin: unitIds } }).exec(),
    people: await models.Person.countDocuments({ _id: { $nin: personIds } }).exec(),
    posts: await models.Post.countDocuments({ _id: { $nin: postIds } }).exec(),
  };
}

function accountInput(account: DemoAccount) {
  return {
    username: account.username,
    displayName: account.displayName,
    password: DEMO_PASSWORD,
    roles: account.roles,
    unitIds: account.unitIds,
  };
}

function demoAccountViews(accounts: readonly DemoAccount[]): DemoAccountView[] {
  return accounts.map((a) => ({
    username: a.username,
    password: DEMO_PASSWORD,
    displayName: a.displayName,
    persona: a.persona,
    roles: a.roles,
  }));
}

/** Lines listing the demo users, for `npm run seed` and `npm start`. */
export function demoAccountLines(accounts: readonly DemoAccountView[]): string[] {
  if (accounts.length === 0) return [];
  const width = Math.max(...accounts.map((a) => a.username.length));
  // Names are two to four characters wide; an ideographic space pads them into a column.
  const nameWidth = Math.max(...accounts.map((a) => a.displayName.length));
  return [
    `Demo users (password: ${accounts[0]!.password}):`,
    ...accounts.map(
      (a) =>
        `  ${a.username.padEnd(width)}  ${a.displayName.padEnd(nameWidth, '\u3000')}  ${a.persona}`,
    ),
  ];
}
