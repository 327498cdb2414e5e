import type { Models } from '../models';
import { bumpOrgRevision } from '../models/org-revision';
import type { Absence, AbsenceReason } from '../common/stand-ins';
import type { DutyShift } from '../common/duty-rota';
import type { Principal } from './auth';
import { hasAnyRole } from './auth';
import type { ErrorDetail } from './errors';
import { AppError } from './errors';
import type { OrgScope, ScopeResolver } from './scope';
import type { AbsenceInput, BackupInput, RotaInput, WorkingHoursInput } from './availability-input';
import { windowsInMinutes } from '../common/working-hours';
import { CalendarError, createWorkingCalendar } from '../common/working-calendar';
import { SUPERVISOR_ROLES } from '../common/roles';

/** An absence as readers see it; `reason` only for admins and dispatchers (it may be 病假). */
export type AbsenceView = Omit<Absence, 'reason'> & { reason?: AbsenceReason };

/** A unit's working hours: its own, or the nearest unit's above it (`from`), or the default. */
export interface WorkingHoursView {
  unitId: string;
  /** The unit whose hours apply; null for the default office hours. */
  from: string | null;
  windows: Array<{ start: string; end: string }>;
  everyDay: boolean;
}

export interface RotaView {
  unitId: string;
  shifts: DutyShift[];
}

/** Where each field of the i-th item is, for error details (JSON path or CSV cell). */
export type ItemPathOf = (index: number, field: string) => string;

const jsonPath =
  (list: string): ItemPathOf =>
  (index, field) =>
    `body.${list}[${index}].${field}`;

/**
 * The post whose holder heads a unit (负责人: a community's 主任, a department's 局长) and may write
 * its duty rota besides admins. Chosen: `director` alone; a unit's party secretary or a leader in
 * charge does not run its duty roster.
 */
export const UNIT_HEAD_ROLE = 'director';

/**
 * Who is available when, as admin data: people's absence periods (with an optional named stand-in),
 * posts' B-holders (AB岗) and units' duty rotas (值班表). Admins write; dispatchers and staff read
 * what concerns their scope (absences of people posted there, rotas and B-holders of its units).
 * A unit's rota is also written by its head (负责人: the holder of its {@link UNIT_HEAD_ROLE} post),
 * for that unit only.
 * Every write checks the whole input before anything is written and bumps the org revision, so
 * the worker's people lookups use it from the next lookup on (common/stand-ins.ts).
 */
export function createAvailabilityService(deps: {
  models: Models;
  scope: ScopeResolver;
  clock: () => Date;
}) {
  const {
    Absence: AbsenceModel,
    PostBackup,
    DutyRota,
    WorkingHours,
    Person,
    Unit,
    Post,
  } = deps.models;

  async function knownPeople(ids: Iterable<string>): Promise<Set<string>> {
    const wanted = [...new Set(ids)].sort();
    if (wanted.length === 0) return new Set();
    const found = await Person.find({ _id: { $in: wanted } }, { _id: 1 }).lean();
    return new Set(found.map((p) => p._id));
  }

  /** People holding a post in the reader's scope; undefined for admins (everyone). */
  async function peopleInScope(scope: OrgScope): Promise<Set<string> | undefined> {
    if (scope.all) return undefined;
    if (scope.unitIds.size === 0) return new Set();
    const posts = await Post.find({ unitId: { $in: [...scope.unitIds] } }, { personId: 1 }).lean();
    return new Set(posts.map((p) => p.personId));
  }

  /**
   * Refuses (403) a rota write by anyone but an admin or the unit's head: a signed-in person
   * holding the unit's {@link UNIT_HEAD_ROLE} post (their person record names their account). A
   * director of a community does not write the rotas of its grids, nor of another community.
   */
  async function assertMayWriteRota(principal: Principal, unitId: string): Promise<void> {
    if (principal.roles.includes('admin')) return;
    if (principal.kind === 'user') {
      const people = await Person.find({ userId: principal.id }, { _id: 1 }).lean();
      const heads =
        people.length === 0
          ? 0
          : await Post.countDocuments({
              unitId,
              role: UNIT_HEAD_ROLE,
              personId: { $in: people.map((p) => p._id) },
            });
      if (heads > 0) return;
    }
    throw new AppError(
      'forbidden',
      `Only an admin or the head (${UNIT_HEAD_ROLE}) of unit "${unitId}" may write its rota`,
    );
  }

  function unitReadable(scope: OrgScope, unitId: string): boolean {
    return scope.all || scope.unitIds.has(unitId);
  }

  function absenceViewOf(
    doc: {
      _id: string;
      personId: string;
      from: Date;
      to: Date;
      reason: string;
      standInId?: string | null;
    },
    withReason: boolean,
  ): AbsenceView {
    return {
      id: doc._id,
      personId: doc.personId,
      from: doc.from.toISOString(),
      to: doc.to.toISOString(),
      ...(withReason ? { reason: doc.reason as AbsenceReason } : {}),
      standInId: doc.standInId ?? null,
    };
  }

  /**
   * Absences checked as a whole: people and stand-ins known, `to` after `from`, nobody their own
   * stand-in, no id twice. Throws 422 naming every problem; writes nothing.
   */
  async function checkAbsences(absences: readonly AbsenceInput[], pathOf: ItemPathOf) {
    const problems: ErrorDetail[] = [];
    const known = await knownPeople(
      absences.flatMap((a) => [a.personId, ...(a.standInId ? [a.standInId] : [])]),
    );
    const ids = new Set<string>();
    absences.forEach((absence, i) => {
      if (!known.has(absence.personId)) {
        problems.push({
          path: pathOf(i, 'personId'),
          message: `unknown person "${absence.personId}"`,
        });
      }
      if (absence.standInId !== undefined && !known.has(absence.standInId)) {
        problems.push({
          path: pathOf(i, 'standInId'),
          message: `unknown person "${absence.standInId}"`,
        });
      }
      if (absence.standInId !== undefined && absence.standInId === absence.personId) {
        problems.push({
          path: pathOf(i, 'standInId'),
          message: 'a person cannot stand in for themselves',
        });
      }
      if (Date.parse(absence.to) <= Date.parse(absence.from)) {
        problems.push({ path: pathOf(i, 'to'), message: '"to" must be after "from"' });
      }
      const id = absenceIdOf(absence);
      if (ids.has(id)) problems.push({ path: pathOf(i, 'id'), message: `absence "${id}" twice` });
      ids.add(id);
    });
    if (problems.length > 0) {
      throw new AppError(
        'unprocessable',
        `The absences are not valid, nothing was written: ${problems[0]!.path}: ${problems[0]!.message}`,
        problems,
      );
    }
  }

  async function writeAbsences(absences: readonly AbsenceInput[]): Promise<number> {
    const now = deps.clock();
    let created = 0;
    for (const absence of absences) {
      const id = absenceIdOf(absence);
      const result = await AbsenceModel.updateOne(
        { _id: id },
        {
          $set: {
            personId: absence.personId,
            from: new Date(absence.from),
            to: new Date(absence.to),
            reason: absence.reason,
            standInId: absence.standInId ?? null,
            updatedAt: now,
          },
        },
        { upsert: true },
      );
      created += result.upsertedCount;
    }
    await bumpOrgRevision(deps.models);
    return created;
  }

  async function checkBackups(backups: readonly BackupInput[], pathOf: ItemPathOf) {
    const problems: ErrorDetail[] = [];
    const unitIds = [...new Set(backups.map((b) => b.unitId))].sort();
    const units = new Set(
      (await Unit.find({ _id: { $in: unitIds } }, { _id: 1 }).lean()).map((u) => u._id),
    );
    const people = await knownPeople(backups.map((b) => b.personId));
    const posts = new Set<string>();
    backups.forEach((backup, i) => {
      if (!units.has(backup.unitId)) {
        problems.push({ path: pathOf(i, 'unitId'), message: `unknown unit "${backup.unitId}"` });
      }
      if (!people.has(backup.personId)) {
        problems.push({
          path: pathOf(i, 'personId'),
          message: `unknown person "${backup.personId}"`,
        });
      }
      const key = `${backup.unitId}:${backup.role}`;
      if (posts.has(key)) {
        problems.push({
          path: pathOf(i, 'role'),
          message: `post "${backup.role}" of "${backup.unitId}" given a B-holder twice`,
        });
      }
      posts.add(key);
    });
    if (problems.length > 0) {
      throw new AppError(
        'unprocessable',
        `The B-holders are not valid, nothing was written: ${problems[0]!.path}: ${problems[0]!.message}`,
        problems,
      );
    }
  }

  return {
    /** Creates or replaces one absence (by its id); 422 naming the field when it is not valid. */
    async saveAbsence(input: AbsenceInput): Promise<{ created: boolean; absence: AbsenceView }> {
      await checkAbsences([input], (_i, field) => `body.${field}`);
      const created = (await writeAbsences([input])) > 0;
      const doc = await AbsenceModel.findById(absenceIdOf(input)).lean();
      return { created, absence: absenceViewOf(doc!, true) };
    },

    /** Many absences at once (JSON or CSV), checked as a whole; safe to repeat. */
    async importAbsences(
      absences: readonly AbsenceInput[],
      options: { pathOf?: ItemPathOf } = {},
    ): Promise<{ absences: number; created: number }> {
      await checkAbsences(absences, options.pathOf ?? jsonPath('absences'));
      return { absences: absences.length, created: await writeAbsences(absences) };
    },

    async removeAbsence(id: string): Promise<void> {
      const result = await AbsenceModel.deleteOne({ _id: id });
      if (result.deletedCount === 0) throw new AppError('not_found', `No absence "${id}"`);
      await bumpOrgRevision(deps.models);
    },

    /**
     * Absences, newest first: of one person, or every one the reader may see (admins all;
     * others those of people holding a post in their scope); `at` keeps those covering an instant.
     */
    async listAbsences(
      principal: Principal,
      query: { personId?: string; at?: string },
    ): Promise<AbsenceView[]> {
      const scope = await deps.scope.resolve(principal);
      const readable = await peopleInScope(scope);
      if (query.personId !== undefined && readable && !readable.has(query.personId)) {
        throw new AppError('not_found', `No person "${query.personId}"`);
      }
      const filter = query.personId !== undefined ? { personId: query.personId } : {};
      const docs = await AbsenceModel.find(filter).sort({ from: -1, _id: 1 }).lean();
      const at = query.at === undefined ? null : Date.parse(query.at);
      const withReason = scope.all || hasAnyRole(principal, SUPERVISOR_ROLES);
      return docs
        .filter((d) => !readable || readable.has(d.personId))
        .filter((d) => at === null || (d.from.getTime() <= at && at < d.to.getTime()))
        .map((d) => absenceViewOf(d, withReason));
    },

    /** Names a post's B-holder (one per post: a second replaces the first). */
    async setBackup(input: BackupInput): Promise<{ created: boolean; backup: BackupInput }> {
      await checkBackups([input], (_i, field) => `body.${field}`);
      const result = await PostBackup.updateOne(
        { _id: `${input.unitId}:${input.role}` },
        { $set: input },
        { upsert: true },
      );
      await bumpOrgRevision(deps.models);
      return { created: result.upsertedCount > 0, backup: input };
    },

    /** Many B-holders at once (JSON or CSV), checked as a whole; safe to repeat. */
    async importBackups(
      backups: readonly BackupInput[],
      options: { pathOf?: ItemPathOf } = {},
    ): Promise<{ backups: number }> {
      await checkBackups(backups, options.pathOf ?? jsonPath('backups'));
      for (const backup of backups) {
        await PostBackup.updateOne(
          { _id: `${backup.unitId}:${backup.role}` },
          { $set: backup },
          { upsert: true },
        );
      }
      await bumpOrgRevision(deps.models);
      return { backups: backups.length };
    },

    async removeBackup(unitId: string, role: string): Promise<void> {
      const result = await PostBackup.deleteOne({ _id: `${unitId}:${role}` });
      if (result.deletedCount === 0) {
        throw new AppError('not_found', `Post "${role}" of unit "${unitId}" has no B-holder`);
      }
      await bumpOrgRevision(deps.models);
    },

    /** The B-holders of a unit's posts, by role; 404 outside the reader's scope. */
    async listBackups(principal: Principal, unitId: string): Promise<BackupInput[]> {
      const scope = await deps.scope.resolve(principal);
      if (!unitReadable(scope, unitId)) throw new AppError('not_found', `No unit "${unitId}"`);
      const docs = await PostBackup.find({ unitId }).sort({ role: 1 }).lean();
      return docs.map((d) => ({ unitId: d.unitId, role: d.role, personId: d.personId }));
    },

    /**
     * Replaces a unit's whole duty rota, as an admin or the unit's head (403 for anyone else);
     * people rostered must exist.
     */
    async saveRota(principal: Principal, unitId: string, input: RotaInput): Promise<RotaView> {
      // Authorised first: a refused writer learns nothing of which units exist.
      await assertMayWriteRota(principal, unitId);
      if (!(await Unit.findById(unitId, { _id: 1 }).lean())) {
        throw new AppError('not_found', `No unit "${unitId}"`);
      }
      const known = await knownPeople(input.shifts.flatMap((s) => s.people));
      const problems: ErrorDetail[] = [];
      input.shifts.forEach((shift, i) =>
        shift.people.forEach((person, j) => {
          if (!known.has(person)) {
            problems.push({
              path: `body.shifts[${i}].people[${j}]`,
              message: `unknown person "${person}"`,
            });
          }
        }),
      );
      if (problems.length > 0) {
        throw new AppError(
          'unprocessable',
          `The rota names unknown people, nothing was written: ${problems[0]!.path}`,
          problems,
        );
      }
      await DutyRota.updateOne(
        { _id: unitId },
        { $set: { shifts: input.shifts, updatedAt: deps.clock() } },
        { upsert: true },
      );
      await bumpOrgRevision(deps.models);
      return { unitId, shifts: input.shifts };
    },

    /**
     * Sets a unit's own working hours (the units below without their own inherit them); windows
     * must not overlap. Working-time deadlines of steps run for the unit count in these hours.
     */
    async saveWorkingHours(unitId: string, input: WorkingHoursInput): Promise<WorkingHoursView> {
      if (!(await Unit.findById(unitId, { _id: 1 }).lean())) {
        throw new AppError('not_found', `No unit "${unitId}"`);
      }
      try {
        createWorkingCalendar([], windowsInMinutes(input.windows));
      } catch (err) {
        if (!(err instanceof CalendarError)) throw err;
        throw new AppError('unprocessable', `The working hours are not valid: ${err.message}`, [
          { path: 'body.windows', message: err.message },
        ]);
      }
      await WorkingHours.updateOne(
        { _id: unitId },
        { $set: { windows: input.windows, everyDay: input.everyDay, updatedAt: deps.clock() } },
        { upsert: true },
      );
      await bumpOrgRevision(deps.models);
      return { unitId, from: unitId, windows: input.windows, everyDay: input.everyDay };
    },

    async removeWorkingHours(unitId: string): Promise<void> {
      const result = await WorkingHours.deleteOne({ _id: unitId });
      if (result.deletedCount === 0) {
        throw new AppError('not_found', `Unit "${unitId}" has no working hours of its own`);
      }
      await bumpOrgRevision(deps.models);
    },

    /** The hours that apply to a unit: its own, else the nearest ancestor's, else the default. */
    async getWorkingHours(principal: Principal, unitId: string): Promise<WorkingHoursView> {
      const scope = await deps.scope.resolve(principal);
      if (!unitReadable(scope, unitId)) throw new AppError('not_found', `No unit "${unitId}"`);
      const { byId } = await deps.scope.units();
      const seen = new Set<string>();
      for (let id: string | null = unitId; id !== null && !seen.has(id);) {
        seen.add(id);
        const doc = await WorkingHours.findById(id).lean();
        if (doc) {
          return {
            unitId,
            from: id,
            windows: doc.windows as Array<{ start: string; end: string }>,
            everyDay: doc.everyDay ?? false,
          };
        }
        id = byId.get(id)?.parentId ?? null;
      }
      return { unitId, from: null, windows: DEFAULT_HOURS, everyDay: false };
    },

    /**
     * A unit's rota for its editor: 404 for an unknown unit, 403 for anyone who may not write it
     * (as {@link saveRota} would refuse them).
     */
    async rotaToEdit(principal: Principal, unitId: string): Promise<RotaView> {
      // Authorised first: a refused writer learns nothing of which units exist.
      await assertMayWriteRota(principal, unitId);
      if (!(await Unit.findById(unitId, { _id: 1 }).lean())) {
        throw new AppError('not_found', `No unit "${unitId}"`);
      }
      const doc = await DutyRota.findById(unitId).lean();
      return { unitId, shifts: (doc?.shifts ?? []) as DutyShift[] };
    },

    /** A unit's rota (no shifts when it has none); 404 outside the reader's scope. */
    async getRota(principal: Principal, unitId: string): Promise<RotaView> {
      const scope = await deps.scope.resolve(principal);
      if (!unitReadable(scope, unitId)) throw new AppError('not_found', `No unit "${unitId}"`);
      const doc = await DutyRota.findById(unitId).lean();
      return { unitId, shifts: (doc?.shifts ?? []) as DutyShift[] };
    },
  };
}

export type AvailabilityService = ReturnType<typeof createAvailabilityService>;

/** The default office hours as `HH:MM` (common/working-calendar.ts DEFAULT_WINDOWS). */
const DEFAULT_HOURS = [
  { start: '09:00', end: '12:00' },
  { start: '13:30', end: '17:30' },
];

/** An absence's id: the one given, else `<personId>-<from as YYYYMMDDHHmm, UTC>`. */
export function absenceIdOf(absence: Pick<AbsenceInput, 'id' | 'personId' | 'from'>): string {
  if (absence.id !== undefined) return absence.id;
  const from = new Date(absence.from).toISOString();
  return `${absence.personId}-${from.slice(0, 16).replace(/[-:T]/g, '')}`;
}
