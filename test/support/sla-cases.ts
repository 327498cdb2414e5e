import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import YAML from 'yaml';
import { createActivities } from '../../activities';
import { checksumOf } from '../../services/definitions';
import { createScopeResolver } from '../../services/scope';
import type { TaskService } from '../../services/tasks';
import { createTaskService } from '../../services/tasks';
import { loadShippedHolidayYears, workingCalendarOf } from '../../calendars';
import type {
  ActingPrincipal,
  Candidate,
  CheckInRecord,
  CaseWorkflowInput,
  CompleteTaskRequest,
  DeadlineView,
  PublicationView,
} from '../../common/case';
import { CALENDAR_CHANGED_SIGNAL, CASE_UPDATES, CASE_WORKFLOW_TYPE } from '../../common/case';
import type { DefinitionSnapshot } from '../../lang/definition';
import { validateDefinition } from '../../lang/check';
import { createLogger } from '../../common/logger';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../common/search-attributes';
import type { WorkingCalendar } from '../../common/working-calendar';
import { createMailRenderer } from '../../mail/renderer';
import { createSmtpTransport } from '../../mail/transport';
import type { Database } from '../../models';
import { connectDatabase } from '../../models';
import type { SunkMail } from '../../stack/smtp-sink';
import { listMail } from '../../stack/smtp-sink';
import { bumpOrgRevision } from '../../models/org-revision';
import { beijingText, bj } from './beijing';
import {
  mailsTo,
  quietTemporalRuntime,
  testConfig,
  uniqueAddress,
  waitFor,
  watchOutbox,
} from './harness';
import { testServerPath, testStack, testDataConverter } from './test-stack';

/**
 * SLA clocks on the time-skipping test server with the real activities over FerretDB and the
 * SMTP sink: each test seeds its own corner of the org tree (so mail counts are its own), starts
 * `caseWorkflow` on a worker of its own, acts through the Updates and moves workflow time.
 */

const DAY_MS = 24 * 3600_000;
const renderer = createMailRenderer();
const SHIPPED_DEFINITIONS = path.join(__dirname, '..', '..', 'definitions');

export interface SeededPerson {
  personId: string;
  userId: string;
  name: string;
  email: string;
}

export interface SeededUnit {
  id: string;
  name: string;
}

/** county → street → community → grid, and who holds which post there. */
export interface SeededOrg {
  county: SeededUnit;
  street: SeededUnit;
  community: SeededUnit;
  grid: SeededUnit;
  /** 网格员 ×2 in the grid. */
  gridWorker: SeededPerson;
  gridWorker2: SeededPerson;
  /** 社区主任 (absent when the post is left vacant). */
  director: SeededPerson;
  /** 社区书记. */
  communitySecretary: SeededPerson;
  /** 街道书记. */
  streetSecretary: SeededPerson;
  /** 街道主任: who answers when a community director's post is vacant (兜底). */
  streetDirector: SeededPerson;
  everyone: SeededPerson[];
}

export interface CalendarDay {
  date: string;
  name: string;
  isOffDay: boolean;
}

/**
 * One test file's database (the shipped calendar years seeded) and a time-skipping test server:
 * one for the file, or with `serverPerTest` one per test (`startServer` in `beforeEach`,
 * `stopServer` in `afterEach`). Time only moves forward, and a server that saw a test fail
 * half-way (a case cut off mid-activity can hold its clock still) must not stall the next test.
 */
export class SlaTestBed {
  private server: TestWorkflowEnvironment | null = null;

  private readonly unwatch: () => void;

  private constructor(readonly db: Database) {
    this.unwatch = watchOutbox(db);
  }

  static async start(name: string, options: { serverPerTest?: boolean } = {}): Promise<SlaTestBed> {
    quietTemporalRuntime();
    const db = await connectDatabase(testConfig(name).MONGODB_URI);
    for (const file of loadShippedHolidayYears()) {
      await db.models.CalendarYear.create({
        _id: String(file.year),
        year: file.year,
        days: file.days,
        papers: file.papers,
        source: 'shipped',
        updatedAt: new Date(),
        updatedBy: { kind: 'system', id: 'test' },
      });
    }
    const bed = new SlaTestBed(db);
    if (!options.serverPerTest) await bed.startServer();
    return bed;
  }

  async stop(): Promise<void> {
    await this.stopServer();
    this.unwatch();
    await this.db.close();
  }

  /** A fresh time-skipping server at today's time, with the search attributes cases upsert. */
  async startServer(): Promise<void> {
    await this.stopServer();
    const env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: testServerPath() } },
      client: { dataConverter: testDataConverter() },
    });
    this.server = env;
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes: Object.fromEntries(
        CUSTOM_SEARCH_ATTRIBUTES.map((key) => [
          key.name,
          temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
        ]),
      ),
    });
  }

  async stopServer(): Promise<void> {
    const env = this.server;
    this.server = null;
    await env?.teardown();
  }

  get env(): TestWorkflowEnvironment {
    if (!this.server) throw new Error('No test server: call startServer() first');
    return this.server;
  }

  /** Workflow time: where the test server's clock stands now. */
  async now(): Promise<number> {
    return this.env.currentTimeMs();
  }

  /** Moves workflow time forward to `instant`; timers due on the way fire in order. */
  async skipTo(instant: Date | number): Promise<void> {
    const target = new Date(instant).getTime();
    const now = await this.now();
    if (target > now) await this.env.sleep(target - now);
  }

  /** The working calendar as the planning activity reads it now. */
  async calendar(): Promise<WorkingCalendar> {
    return workingCalendarOf(await this.db.models.CalendarYear.find({}).lean());
  }

  /** Adds days off and make-up days to the stored calendar, as an admin's revision would. */
  async addCalendarDays(days: readonly CalendarDay[]): Promise<void> {
    const { CalendarYear } = this.db.models;
    const years = new Set(days.map((d) => Number(d.date.slice(0, 4))));
    for (const year of years) {
      const added = days.filter((d) => d.date.startsWith(`${year}-`));
      const stored = await CalendarYear.findById(String(year)).lean();
      const kept = (stored?.days ?? []).filter((d) => !added.some((a) => a.date === d.date));
      await CalendarYear.updateOne(
        { _id: String(year) },
        {
          $set: {
            year,
            days: [...kept, ...added].sort((a, b) => a.date.localeCompare(b.date)),
            papers: stored?.papers ?? [],
            source: 'admin',
            updatedAt: new Date(),
            updatedBy: { kind: 'user', id: 'usr_admin' },
          },
        },
        { upsert: true },
      );
    }
  }

  /**
   * The first Monday (Beijing) at least `afterDays` days from now whose weeks around it, three
   * before and three after, have no calendar exception: a normal stretch the test can shape.
   */
  async quietMonday(afterDays = 2): Promise<string> {
    const exceptions = new Set(
      (await this.db.models.CalendarYear.find({}).lean()).flatMap((y) => y.days.map((d) => d.date)),
    );
    const earliest = (await this.now()) + afterDays * DAY_MS;
    for (let day = bj(dateOf(earliest) + ' 00:00').getTime(); ; day += DAY_MS) {
      const date = dateOf(day);
      if (new Date(`${date}T00:00:00Z`).getUTCDay() !== 1 || day < earliest) continue;
      const span = Array.from({ length: 43 }, (_, i) => dateOf(day + (i - 21) * DAY_MS));
      if (span.every((d) => !exceptions.has(d))) return date;
    }
  }

  /** Units and people of a fresh corner of the org tree, with unique ids and mailboxes. */
  async seedOrg(options: { vacantDirector?: boolean } = {}): Promise<SeededOrg> {
    const { Unit, Person, Post } = this.db.models;
    const tag = randomBytes(3).toString('hex');
    const now = new Date();
    const unit = async (type: string, name: string, parent: SeededUnit | null) => {
      const created = { id: `u-${tag}-${type}`, name: `${name}${tag}` };
      await Unit.create({
        _id: created.id,
        name: created.name,
        type,
        parentId: parent?.id ?? null,
        updatedAt: now,
      });
      return created;
    };
    const county = await unit('county', '测试区', null);
    const street = await unit('street', '幸福街道', county);
    const community = await unit('community', '和平社区', street);
    const grid = await unit('grid', '第一网格', community);
    const everyone: SeededPerson[] = [];
    const person = async (label: string, name: string, posts: Array<[SeededUnit, string]>) => {
      const seeded: SeededPerson = {
        personId: `p-${tag}-${label}`,
        userId: `usr-${tag}-${label}`,
        name,
        email: uniqueAddress(label),
      };
      await Person.create({
        _id: seeded.personId,
        name,
        email: seeded.email,
        userId: seeded.userId,
        updatedAt: now,
      });
      for (const [at, role] of posts) {
        await Post.create({
          _id: `${at.id}:${role}:${seeded.personId}`,
          unitId: at.id,
          role,
          personId: seeded.personId,
        });
      }
      everyone.push(seeded);
      return seeded;
    };
    const seeded: SeededOrg = {
      county,
      street,
      community,
      grid,
      gridWorker: await person('grid-worker', '王网格', [[grid, 'grid-worker']]),
      gridWorker2: await person('grid-worker-2', '赵网格', [[grid, 'grid-worker']]),
      director: await person(
        'director',
        '李主任',
        options.vacantDirector ? [] : [[community, 'director']],
      ),
      communitySecretary: await person('community-secretary', '陈书记', [[community, 'secretary']]),
      streetSecretary: await person('street-secretary', '刘书记', [[street, 'secretary']]),
      streetDirector: await person('street-director', '周主任', [[street, 'director']]),
      everyone,
    };
    // Written past the org service: say so, as it would, so a worker's kept tree is refreshed.
    await bumpOrgRevision(this.db.models);
    return seeded;
  }

  /**
   * A unit of `type` named `name` under `parent` (a unit or its id; null for a root), with a
   * unique id `u-<random>-<type>` unless `id` is given.
   */
  async addUnit(
    type: string,
    name: string,
    parent: SeededUnit | string | null,
    id = `u-${randomBytes(3).toString('hex')}-${type}`,
  ): Promise<SeededUnit> {
    const parentId = typeof parent === 'string' ? parent : (parent?.id ?? null);
    await this.db.models.Unit.create({ _id: id, name, type, parentId, updatedAt: new Date() });
    await bumpOrgRevision(this.db.models);
    return { id, name };
  }

  /**
   * A person with an account and a mailbox of their own (ids `p-<random>-<label>` and
   * `usr-<random>-<label>`), holding `posts`: [unit or unit id, role].
   */
  /**
   * `count` people holding `role` in `unit`, written in bulk (two inserts, not two per person:
   * a roll-call or pool of hundreds is what the caller tests, not the org service), named
   * `<name><tag><i>号`, then the org revision bumped once, as the org service would.
   */
  async addPostHolders(
    unit: SeededUnit,
    role: string,
    count: number,
    label: string,
    name: string,
  ): Promise<SeededPerson[]> {
    const tag = randomBytes(3).toString('hex');
    const people: SeededPerson[] = Array.from({ length: count }, (_, i) => ({
      personId: `p-${tag}-${label}-${i}`,
      userId: `usr-${tag}-${label}-${i}`,
      name: `${name}${tag}${i}号`,
      email: uniqueAddress(`${label}-${i}`),
    }));
    await this.db.models.Person.insertMany(
      people.map((p) => ({
        _id: p.personId,
        name: p.name,
        email: p.email,
        userId: p.userId,
        updatedAt: new Date(),
      })),
    );
    await this.db.models.Post.insertMany(
      people.map((p) => ({
        _id: `${unit.id}:${role}:${p.personId}`,
        unitId: unit.id,
        role,
        personId: p.personId,
      })),
    );
    await bumpOrgRevision(this.db.models);
    return people;
  }

  async addPerson(
    label: string,
    name: string,
    posts: ReadonlyArray<[SeededUnit | string, string]> = [],
  ): Promise<SeededPerson> {
    const tag = randomBytes(3).toString('hex');
    const person: SeededPerson = {
      personId: `p-${tag}-${label}`,
      userId: `usr-${tag}-${label}`,
      name,
      email: uniqueAddress(label),
    };
    await this.db.models.Person.create({
      _id: person.personId,
      name,
      email: person.email,
      userId: person.userId,
      updatedAt: new Date(),
    });
    for (const [unit, role] of posts) await this.addPost(person, unit, role);
    // Each post bumps the org revision already; a person without posts says so once.
    if (posts.length === 0) await bumpOrgRevision(this.db.models);
    return person;
  }

  /** A post `role` in `unit` (a unit or its id) for `person`; a post already held is kept. */
  async addPost(person: SeededPerson, unit: SeededUnit | string, role: string): Promise<void> {
    const unitId = typeof unit === 'string' ? unit : unit.id;
    await this.db.models.Post.updateOne(
      { _id: `${unitId}:${role}:${person.personId}` },
      { $setOnInsert: { unitId, role, personId: person.personId } },
      { upsert: true },
    );
    await bumpOrgRevision(this.db.models);
  }

  /** A definition as an admin publishes it: validated against the mail templates. */
  definition(raw: Record<string, unknown>): DefinitionSnapshot {
    const result = validateDefinition(raw, { knownTemplates: renderer.templateNames });
    if (!result.ok) throw new Error(JSON.stringify(result.problems, null, 2));
    return {
      key: result.spec.key,
      version: 1,
      checksum: checksumOf(result.spec),
      spec: result.spec,
    };
  }

  /** A shipped definition, definitions/<file> (YAML), as an admin publishes it. */
  shipped(file: string): DefinitionSnapshot {
    const source = readFileSync(path.join(SHIPPED_DEFINITIONS, file), 'utf8');
    return this.definition(YAML.parse(source) as Record<string, unknown>);
  }

  /** The shipped `file`, once the shipped sub-processes it starts (`children`) are published. */
  async shippedWith(file: string, ...children: string[]): Promise<DefinitionSnapshot> {
    for (const child of children) await this.publish(this.shipped(child));
    return this.shipped(file);
  }

  /**
   * A service process: one task step `serve` for the grid workers of the case's unit, with the
   * given deadlines, optionally followed by more steps, then the end.
   */
  serviceDefinition(
    key: string,
    deadlines: unknown[],
    options: { caseDeadlines?: unknown[]; after?: unknown[] } = {},
  ): DefinitionSnapshot {
    return this.definition({
      key,
      name: '居民诉求办理',
      starters: ['resident'],
      input: { fields: [] },
      deadlines: options.caseDeadlines ?? [],
      steps: [
        {
          id: 'serve',
          name: '网格员办理',
          type: 'task',
          candidates: [{ role: 'grid-worker', unit: 'case' }],
          deadlines,
        },
        ...(options.after ?? []),
        { id: 'closed', name: '办结', type: 'end' },
      ],
    });
  }

  /** Starts a case in the org's grid and waits until its task is open with its deadlines planned. */
  async openTask(taskQueue: string, org: SeededOrg, definition: DefinitionSnapshot) {
    const kase = await this.startCase(taskQueue, definition, org.grid.id);
    const taskId = kase.taskId('serve');
    const task = await kase.waitForTask('the task to open', taskId, (t) =>
      t.deadlines.every((d) => d.dueAt !== null),
    );
    // The task document is written just before the case document: wait for both.
    await kase.waitForDoc('the case to list the task’s deadlines', (doc) =>
      task.deadlines.every((d) =>
        doc.deadlines.some((c) => c.key === d.key && c.dueAt === d.dueAt),
      ),
    );
    return { kase, taskId, task, openedAt: task.openedAt.getTime() };
  }

  /** Publishes a snapshot as version 1 in the test database, where sub-process steps look it up. */
  async publish(definition: DefinitionSnapshot): Promise<void> {
    await this.db.models.Definition.updateOne(
      { _id: `${definition.key}@1` },
      {
        $setOnInsert: {
          key: definition.key,
          version: 1,
          checksum: definition.checksum,
          name: definition.spec.name,
          spec: definition.spec,
          source: 'test',
          sourceFormat: 'yaml',
          status: 'published',
          publishedAt: new Date(),
          publishedBy: { kind: 'system', id: 'test' },
        },
      },
      { upsert: true },
    );
  }

  /**
   * Runs `body` with a worker of its own (fresh activities, so a fresh org tree cache; or the
   * activities given, e.g. over another mail transport).
   */
  async withWorker<T>(
    body: (taskQueue: string) => Promise<T>,
    activities: ReturnType<typeof createActivities> = this.activities(),
  ): Promise<T> {
    const taskQueue = `sla-${randomBytes(4).toString('hex')}`;
    const worker = await Worker.create({
      connection: this.env.nativeConnection,
      taskQueue,
      workflowBundle: { codePath: testStack().workflowBundlePath },
      dataConverter: testDataConverter(),
      activities,
    });
    return worker.runUntil(body(taskQueue));
  }

  /**
   * A worker on `taskQueue` (fresh activities, so a fresh org tree cache) that the test stops
   * mid-case, as a crash or a deploy would, and replaces with another on the same queue: the
   * next one has none of its cached workflows and replays each from its history.
   */
  async startWorker(taskQueue: string): Promise<StoppableWorker> {
    const worker = await Worker.create({
      connection: this.env.nativeConnection,
      taskQueue,
      workflowBundle: { codePath: testStack().workflowBundlePath },
      dataConverter: testDataConverter(),
      activities: this.activities(),
      // No cache, so no sticky queue: the time-skipping server holds its clock while a workflow
      // task waits, and would keep one waiting on a stopped worker's sticky queue for ever (a
      // real server hands it to the shared queue after 5 s). Every task replays the history, as
      // the next worker's first task does after a crash.
      maxCachedWorkflows: 0,
      // An activity under way when it is stopped finishes (chosen: no activity of a case runs
      // this long); it is stopped between activities, not cut off in one.
      shutdownGraceTime: '20s',
    });
    const running = worker.run();
    await waitFor('the worker to run', () =>
      Promise.resolve(worker.getState() === 'RUNNING' || undefined),
    );
    let stopped: Promise<void> | null = null;
    const stop = async () => {
      worker.shutdown();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error('Timed out after 60000 ms waiting for the worker to stop')),
          60_000,
        );
      });
      await Promise.race([running, timeout]).finally(() => clearTimeout(timer));
    };
    // Once only: a test's clean-up stops whatever its body left running.
    return { stop: () => (stopped ??= stop()) };
  }

  /** The real activities over this bed's database and the SMTP sink, on the wall clock. */
  activities(): ReturnType<typeof createActivities> {
    return createActivities({
      models: this.db.models,
      mail: {
        transport: createSmtpTransport(testStack().env.SMTP_URL),
        renderer,
        from: 'test <noreply@governance.local>',
      },
      clock: () => new Date(),
      logger: createLogger('test', 'silent'),
    });
  }

  /**
   * The task service as the API builds it, over this bed's database and test server: what a
   * roster roll-call's acknowledgements go through (they are not Updates).
   */
  tasks(): TaskService {
    return createTaskService({
      models: this.db.models,
      temporal: this.env.client,
      callTimeoutMs: 30_000,
      scope: createScopeResolver(this.db.models),
      definitions: { snapshot: () => Promise.resolve(null) },
    });
  }

  /** A case the workflow started itself (a sub-process's child), by its id. */
  childCase(caseId: string): RunningCase {
    const input = { caseId } as CaseWorkflowInput;
    return new RunningCase(this, input, this.env.client.workflow.getHandle(caseId));
  }

  /** Starts a case of `definition` in `unitId`, received now (workflow time). */
  async startCase(
    taskQueue: string,
    definition: DefinitionSnapshot,
    unitId: string,
    data: Record<string, unknown> = {},
    options: Pick<CaseWorkflowInput, 'historyLimits'> &
      Partial<Pick<CaseWorkflowInput, 'startedBy'>> = {},
  ): Promise<RunningCase> {
    const input: CaseWorkflowInput = {
      startedBy: { kind: 'user', id: 'usr_resident', roles: ['resident'] },
      ...options,
      caseId: `case-${randomBytes(12).toString('hex')}`,
      definition,
      data,
      unitId,
      requestHash: 'test',
      receivedAt: new Date(await this.now()).toISOString(),
      channel: 'test',
    };
    const handle = await this.env.client.workflow.start(CASE_WORKFLOW_TYPE, {
      taskQueue,
      workflowId: input.caseId,
      args: [input],
    });
    return new RunningCase(this, input, handle);
  }
}

/**
 * Registers a test file's hooks: one database for the file and a fresh time-skipping server for
 * each test, so a test that stalls a server cannot stall the next one. `onReady` receives the bed.
 */
export function useSlaTestBed(name: string, onReady: (bed: SlaTestBed) => void): void {
  let bed: SlaTestBed | undefined;
  beforeAll(async () => {
    bed = await SlaTestBed.start(name, { serverPerTest: true });
    onReady(bed);
  });
  beforeEach(() => bed!.startServer());
  afterEach(() => bed!.stopServer());
  afterAll(() => bed?.stop());
}

/** A case under test: its Updates, its documents, its timeline. */
export class RunningCase {
  constructor(
    private readonly bed: SlaTestBed,
    readonly input: CaseWorkflowInput,
    readonly handle: WorkflowHandle,
  ) {}

  get caseId(): string {
    return this.input.caseId;
  }

  /** `${caseId}.${stepId}.${visit}`, as the interpreter names tasks. */
  taskId(stepId: string, visit = 1): string {
    return `${this.caseId}.${stepId}.${visit}`;
  }

  async claim(taskId: string, person: SeededPerson): Promise<void> {
    await this.handle.executeUpdate(CASE_UPDATES.claim, {
      args: [{ taskId, actor: actor(person) }],
    });
  }

  /** The person reports (报到) to a roll-call, as the API's claim does (the task service). */
  async acknowledge(taskId: string, person: SeededPerson): Promise<void> {
    await this.bed
      .tasks()
      .act(
        { kind: 'user', id: person.userId, roles: ['staff'], unitIds: [] },
        taskId,
        'claim',
        {},
        undefined,
      );
  }

  /** Completes a task as `person`; `checkIn` as the API service hands it on (measured). */
  async complete(
    taskId: string,
    person: SeededPerson,
    outcome = 'done',
    form: Record<string, unknown> = {},
    extra: { checkIn?: CheckInRecord } = {},
  ): Promise<void> {
    await this.handle.executeUpdate(CASE_UPDATES.complete, {
      args: [{ taskId, actor: actor(person), outcome, form, ...extra }],
    });
  }

  /** The requester's rating, as the resident who filed the case. */
  async rate(score: number): Promise<void> {
    await this.handle.executeUpdate(CASE_UPDATES.rate, {
      args: [
        { actor: { kind: 'user', id: 'usr_resident', roles: ['resident'], via: 'test' }, score },
      ],
    });
  }

  async pause(person: SeededPerson): Promise<void> {
    await this.handle.executeUpdate(CASE_UPDATES.pause, {
      args: [{ actor: actor(person), reason: '等待居民补充材料' }],
    });
  }

  async resume(person: SeededPerson): Promise<void> {
    await this.handle.executeUpdate(CASE_UPDATES.resume, { args: [{ actor: actor(person) }] });
  }

  async calendarChanged(): Promise<void> {
    await this.handle.signal(CALENDAR_CHANGED_SIGNAL);
  }

  async doc(): Promise<CaseDoc> {
    const doc: CaseDoc | null = await this.bed.db.models.Case.findById(this.caseId).lean();
    if (!doc) throw new Error(`case ${this.caseId} has no document`);
    return doc;
  }

  async task(taskId: string): Promise<TaskDoc | null> {
    return this.bed.db.models.Task.findById(taskId).lean();
  }

  /** Polls (in real time) until the case document satisfies `check`. */
  async waitForDoc(what: string, check: (doc: CaseDoc) => boolean): Promise<CaseDoc> {
    return waitFor(what, async () => {
      const doc: CaseDoc | null = await this.bed.db.models.Case.findById(this.caseId).lean();
      return doc && check(doc) ? doc : undefined;
    });
  }

  /** Waits until the timeline holds `count` entries of `type` (matching `detail`), and returns them. */
  async waitForEvents(
    type: string,
    count: number,
    detail: Record<string, unknown> = {},
  ): Promise<TimelineEvent[]> {
    const doc = await this.waitForDoc(`${count} × ${type} ${JSON.stringify(detail)}`, (d) => {
      return eventsOf(d.timeline, type, detail).length >= count;
    });
    return eventsOf(doc.timeline, type, detail);
  }

  async waitForTask(what: string, taskId: string, check: (task: TaskDoc) => boolean) {
    return waitFor(what, async () => {
      const task = await this.task(taskId);
      return task && check(task) ? task : undefined;
    });
  }
}

/** A worker a test stops mid-case ({@link SlaTestBed.startWorker}). */
export interface StoppableWorker {
  /**
   * Stops polling, lets the activities under way finish, and resolves once the worker is gone
   * (up to 60 s, chosen); a second call waits for the first.
   */
  stop(): Promise<void>;
}

/** The history of every run of a case, first to last, following its continue-as-new events. */
export async function runHistories(
  bed: SlaTestBed,
  caseId: string,
  firstRunId: string,
): Promise<temporal.api.history.v1.IHistory[]> {
  const histories: temporal.api.history.v1.IHistory[] = [];
  for (let runId: string | null | undefined = firstRunId; runId;) {
    const history = await bed.env.client.workflow.getHandle(caseId, runId).fetchHistory();
    histories.push(history);
    const last = history.events?.at(-1);
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
  }
  return histories;
}

/** The parts of the stored documents these tests read, typed (the stored ones are Mixed). */
export interface TimelineEvent {
  seq: number;
  type: string;
  at: Date;
  stepId?: string | null;
  detail?: Record<string, string | number | boolean> | null;
}

export interface CaseDoc {
  status: string;
  closedAt?: Date | null;
  deadlines: DeadlineView[];
  timeline: TimelineEvent[];
  /** What the public board shows of a published case. */
  publication?: PublicationView | null;
  rating?: { score: number | null } | null;
  /** Who served the case (common/case-served.ts). */
  servedBy?: { unitIds: string[]; personIds: string[] };
}

export interface TaskDoc {
  status: string;
  candidates: Candidate[];
  claimants: Candidate[];
  /** A pool's capacity (1 for a task). */
  maxClaimants?: number;
  candidateUserIds: string[];
  /** The form its fields' defaults prefill (预填), when they do. */
  prefill?: Record<string, unknown>;
  assignee?: Candidate | null;
  assigneeUserId?: string | null;
  deadlines: DeadlineView[];
  dueAt?: Date | null;
  openedAt: Date;
  closedAt?: Date | null;
  /** A supervision slip's facts (kind `supervision`). */
  supervision?: { level: string; overdue: boolean; reply: string | null };
}

/** Timeline entries of `type` whose detail has every key of `detail`. */
export function eventsOf(
  timeline: readonly TimelineEvent[],
  type: string,
  detail: Record<string, unknown> = {},
): TimelineEvent[] {
  return timeline.filter(
    (e) => e.type === type && Object.entries(detail).every(([k, v]) => e.detail?.[k] === v),
  );
}

export function actor(person: SeededPerson): ActingPrincipal {
  return { kind: 'user', id: person.userId, roles: ['staff'], via: 'test' };
}

/** The person acting as a dispatcher (the role that may act on a pool for the street). */
export function asDispatcher(person: SeededPerson): ActingPrincipal {
  return { kind: 'user', id: person.userId, roles: ['dispatcher'], via: 'test' };
}

/** The `visit`-th task of step `stepId` once it is open with its deadlines planned, with its id. */
export async function openedTask(kase: RunningCase, stepId: string, visit = 1) {
  const id = kase.taskId(stepId, visit);
  const task = await kase.waitForTask(`the ${stepId} task`, id, (t) =>
    t.deadlines.every((d) => d.dueAt !== null),
  );
  return { ...task, id };
}

/** Claims the task for `person` and completes it with `outcome`, `form` and an optional comment. */
export async function claimAndComplete(
  kase: RunningCase,
  taskId: string,
  person: SeededPerson,
  outcome: string,
  form: Record<string, unknown>,
  comment?: string,
): Promise<void> {
  await kase.claim(taskId, person);
  const request: CompleteTaskRequest = { taskId, actor: actor(person), outcome, form };
  if (comment) request.comment = comment;
  await kase.handle.executeUpdate(CASE_UPDATES.complete, { args: [request] });
}

/**
 * The ids of the steps a timeline entered, in order: a `step.entered`, or for the steps that
 * record none (workflows/projection.ts) a task's `task.opened` and the end's `case.closed`.
 */
export function stepsEntered(timeline: ReadonlyArray<{ type: string; stepId?: string | null }>) {
  return timeline
    .filter((e) => ['step.entered', 'task.opened', 'case.closed'].includes(e.type))
    .map((e) => String(e.stepId));
}

/** The Beijing date `days` after `date` (`YYYY-MM-DD`). */
export function plusDays(date: string, days: number): string {
  return beijingText(bj(`${date} 12:00`).getTime() + days * DAY_MS).slice(0, 10);
}

/** Mails to `address` whose subject contains `marker`, once `count` of them are in the sink. */
export async function mailsToAddress(address: string, marker: string, count = 1) {
  const person = { email: address } as SeededPerson;
  return waitFor(`${count} mail(s) "${marker}" to ${address}`, async () => {
    const found = await mailsOf(person, marker);
    return found.length >= count ? found : undefined;
  });
}

/** Mails in the sink to a person whose subject contains `marker` (a template's subject). */
export async function mailsOf(person: SeededPerson, marker = ''): Promise<SunkMail[]> {
  return (await mailsTo(person.email)).filter((m) => m.subject.includes(marker));
}

/**
 * How many different mails whose subject contains `marker` each of `people` received, by address
 * (read once from the sink). Different by Message-ID: the outbox delivers at least once, and a
 * send retried after an SMTP error carries the first attempt's Message-ID, so the recipient's
 * mail client shows one mail.
 */
export async function distinctMailsByAddress(
  people: readonly SeededPerson[],
  marker: string,
): Promise<Map<string, number>> {
  const addresses = new Set(people.map((p) => p.email));
  const ids = new Map<string, Set<string>>();
  for (const mail of await listMail(testStack().mailDir)) {
    if (!mail.subject.includes(marker)) continue;
    for (const to of mail.envelope.to.filter((a) => addresses.has(a))) {
      const seen = ids.get(to) ?? new Set<string>();
      seen.add(mail.messageId ?? mail.id);
      ids.set(to, seen);
    }
  }
  return new Map([...ids].map(([to, seen]) => [to, seen.size]));
}

/** Subject markers of the templates these tests look for. */
export const SUBJECT = {
  assigned: '新任务待办',
  reminder: '即将超时提醒',
  escalated: '超时督办',
} as const;

/** A timer fires when the server reaches its instant; the workflow records it moments later. */
const FIRING_SLACK_MS = 10_000;

/** That something recorded at `at` fired at the `planned` instant: not before, barely after. */
export function expectFiredAt(at: Date, planned: number | string): void {
  const instant = new Date(planned).getTime();
  expect(at.getTime()).toBeGreaterThanOrEqual(instant);
  expect(at.getTime() - instant).toBeLessThan(FIRING_SLACK_MS);
}

/** The deadline `key` (`<task id>/<deadline id>` or `case/<deadline id>`) of a list. */
export function deadlineOf(deadlines: readonly DeadlineView[], key: string): DeadlineView {
  const found = deadlines.find((d) => d.key === key);
  if (!found) throw new Error(`no deadline ${key} in ${JSON.stringify(deadlines)}`);
  return found;
}

function dateOf(instant: number): string {
  return new Date(instant + 8 * 3600_000).toISOString().slice(0, 10);
}
