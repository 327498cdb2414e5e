import { AccountTakenError, upsertPerson, upsertPost } from '../common/org-writes';
import type { OrgUnit } from '../common/org-tree';
import type { UnitType } from '../lang/vocabulary';
import type { Models } from '../models';
import { bumpOrgRevision } from '../models/org-revision';
import type { Principal } from './auth';
import { hasAnyRole } from './auth';
import type { ErrorDetail } from './errors';
import { AppError } from './errors';
import type { OrgScope, ScopeResolver } from './scope';
import type { ImportPathOf, OrgImport, PersonInput, PostInput, UnitInput } from './org-import';
import { importOrg, postIdOf } from './org-import';
import type { PairingView } from './pairings';
import { createPairingService } from './pairings';
import { skipOf, totalOf } from './paging';
import { SUPERVISOR_ROLES } from '../common/roles';
import { maskWebhook, postToRobot } from '../channels/robots';
import type { RobotMessage } from '../channels/robots';

export interface UnitView extends OrgUnit {
  ancestry: Array<{ id: string; name: string; type: string }>;
  posts: Array<{ role: string; personId: string; personName: string }>;
  /** Who is paired with the unit (包联), the first 100 by id. */
  pairings: PairingView[];
  /** Admins only, masked (see {@link RobotView}). */
  groupRobot?: RobotView; /** Where the unit is (WGS-84), when known: check-ins (签到) are measured against it. */
  location?: { lat: number; lng: number };
}

/**
 * A group robot as admins read it: its vendor, the webhook with its key masked, and whether a
 * signing secret is stored. The webhook's key and the secret are write-only: no reader gets them.
 */
export interface RobotView {
  channel: string;
  webhook: string;
  signed: boolean;
}

export function robotViewOf(
  robot:
    { channel?: string | null; webhook?: string | null; secret?: string | null } | null | undefined,
): RobotView | undefined {
  if (!robot?.channel || !robot.webhook) return undefined;
  return { channel: robot.channel, webhook: maskWebhook(robot.webhook), signed: !!robot.secret };
}

/**
 * A person as a reader sees them. Email and phone are present for admins, and for dispatchers
 * when the person holds a post in a unit of the dispatcher's scope; absent otherwise.
 */
export interface PersonView {
  id: string;
  name: string;
  userId?: string;
  email?: string;
  phone?: string;
  /** Preferred channels, with email and phone (same readers). */
  channels?: string[];
  /** Admins only, masked. */
  groupRobot?: RobotView;
}

export interface PersonDetail extends PersonView {
  posts: Array<{ unitId: string; unitName: string; role: string }>;
}

/** What a robot's vendor answered to a test message (services/org.ts `testUnitRobot`). */
export interface RobotTestResult {
  delivered: boolean;
  /** `accepted`; `retryable` (HTTP 5xx or 429, a rate-limit errcode, a network error); `refused`. */
  outcome: 'accepted' | 'retryable' | 'refused';
  /** The vendor's answer: `errcode 0`, `errcode 93000 invalid webhook url`, `HTTP 404`, `network: TimeoutError`. */
  answer: string;
}

/** The test message: says it is one, so nobody in the group takes it for a case's notice. */
export const ROBOT_TEST_MESSAGE: RobotMessage = {
  title: '群机器人测试',
  body: '【测试消息】这是管理员发送的群机器人测试消息，用于检查 Webhook 设置，无需处理，不计入任何统计。',
  format: 'text',
};

/**
 * The org tree as admin data: units, people and posts read (contacts only for those who may see
 * them) and edited one at a time; whole imports go through org-import.ts. Every write bumps the
 * org revision, so the org snapshot scopes are computed from (org-snapshot.ts) is read again by the
 * next request of every process.
 */
export function createOrgService(deps: {
  models: Models;
  scope: ScopeResolver;
  clock: () => Date;
}) {
  const { Unit, Person, Post: PostModel } = deps.models;
  const pairings = createPairingService(deps);

  /** Every unit, from the process's org snapshot (read again only after an org write). */
  async function storedUnits(): Promise<OrgUnit[]> {
    const { byId } = await deps.scope.units();
    return [...byId.values()].map((u) => ({ ...u, type: u.type as UnitType }));
  }

  /**
   * Staff read only people who hold a post in a unit of their scope; admins and dispatchers
   * read everyone (by name). Returns the allowed person ids, or undefined for no restriction.
   */
  async function readablePeople(
    principal: Principal,
    scope: OrgScope,
  ): Promise<Set<string> | undefined> {
    if (scope.all || hasAnyRole(principal, SUPERVISOR_ROLES)) return undefined;
    if (scope.unitIds.size === 0) return new Set();
    const posts = await PostModel.find(
      { unitId: { $in: [...scope.unitIds] } },
      { personId: 1 },
    ).lean();
    return new Set(posts.map((p) => p.personId));
  }

  /**
   * Of these people, those whose email and phone a non-admin may read: for dispatchers, the ones
   * holding a post in a unit of their scope (`posts` when the caller has them already, else read
   * for these people only); for everyone else, nobody. Admins read all contacts (`scope.all`).
   */
  async function contactReadable(
    principal: Principal,
    scope: OrgScope,
    personIds: readonly string[],
    posts?: ReadonlyArray<{ personId: string; unitId: string }>,
  ): Promise<Set<string>> {
    if (!hasAnyRole(principal, CONTACT_ROLES) || scope.unitIds.size === 0) return new Set();
    if (personIds.length === 0) return new Set();
    const held =
      posts ??
      (await PostModel.find(
        { personId: { $in: [...personIds].sort() } },
        { personId: 1, unitId: 1 },
      ).lean());
    return new Set(held.filter((p) => scope.unitIds.has(p.unitId)).map((p) => p.personId));
  }

  /** Drops email and phone of the people `allowed` does not name (admins keep every contact). */
  function redactContacts(docs: PersonRecord[], allowed: ReadonlySet<string>): PersonRecord[] {
    return docs.map((d) => {
      if (allowed.has(d._id)) return d;
      const rest = { ...d };
      delete rest.email;
      delete rest.phone;
      delete rest.channels;
      return rest;
    });
  }

  /**
   * A unit with its ancestry (parent first), read by walking up one lookup by `_id` at a time,
   * without the posts `getUnit` adds: the console's unit page.
   */
  async function unitOutline(id: string): Promise<Omit<UnitView, 'posts' | 'pairings'>> {
    const doc = await Unit.findById(id).lean();
    if (!doc) throw new AppError('not_found', `No unit "${id}"`);
    const ancestry: UnitView['ancestry'] = [];
    const seen = new Set([id]);
    for (let cursor = doc.parentId ?? null; cursor !== null && !seen.has(cursor);) {
      seen.add(cursor);
      const parent = await Unit.findById(cursor, { name: 1, type: 1, parentId: 1 }).lean();
      if (!parent || ancestry.length >= 64) break;
      ancestry.push({ id: parent._id, name: parent.name, type: parent.type });
      cursor = parent.parentId ?? null;
    }
    const location = doc.location;
    return {
      id: doc._id,
      name: doc.name,
      type: doc.type as UnitType,
      parentId: doc.parentId ?? null,
      ancestry,
      ...(location ? { location: { lat: location.lat, lng: location.lng } } : {}),
    };
  }

  return {
    /** 包联: the pairings of units with people and units (pairings.ts). */
    pairings,

    importOrg: (input: OrgImport, options: { pathOf?: ImportPathOf } = {}) =>
      importOrg({ ...deps, storedUnits }, input, options),

    /**
     * Creates a unit, or moves or renames one. Its parent must exist and must not lie below it;
     * checked by walking up from the parent one lookup by `_id` at a time.
     */
    async saveUnit(
      input: UnitInput,
    ): Promise<{ created: boolean; unit: OrgUnit & { groupRobot?: RobotView } }> {
      for (let cursor = input.parentId, depth = 0; cursor !== null; depth++) {
        if (cursor === input.id || depth > 64) {
          throw new AppError('unprocessable', 'A unit cannot be placed below itself', [
            {
              path: 'body.parentId',
              message: `"${input.parentId}" is "${input.id}" or lies below it`,
            },
          ]);
        }
        const parent = await Unit.findById(cursor, { parentId: 1 }).lean();
        if (!parent) {
          if (cursor !== input.parentId) break; // an ancestor gone missing is not this write's fault
          throw new AppError('unprocessable', `No unit "${cursor}" to place the unit under`, [
            { path: 'body.parentId', message: `unknown unit "${cursor}"` },
          ]);
        }
        cursor = parent.parentId ?? null;
      }
      const existing = await Unit.findById(input.id, { _id: 1 }).lean();
      await Unit.updateOne(
        { _id: input.id },
        {
          $set: {
            name: input.name,
            type: input.type,
            parentId: input.parentId,
            ...(input.groupRobot ? { groupRobot: input.groupRobot } : {}),
            ...(input.location ? { location: input.location } : {}),
            updatedAt: deps.clock(),
          },
          // `null` removes the robot or the place; left out, the stored one stays (a rename keeps it).
          ...(input.groupRobot === null || input.location === null
            ? {
                $unset: {
                  ...(input.groupRobot === null ? { groupRobot: 1 } : {}),
                  ...(input.location === null ? { location: 1 } : {}),
                },
              }
            : {}),
        },
        { upsert: true },
      );
      await bumpOrgRevision(deps.models);
      deps.scope.invalidate();
      const { groupRobot, location, ...unit } = input;
      const robot = robotViewOf(groupRobot);
      return {
        created: !existing,
        unit: {
          ...unit,
          ...(robot ? { groupRobot: robot } : {}),
          ...(location ? { location } : {}),
        },
      };
    },

    /**
     * Creates a person or replaces what is stored about them (a field left out is removed: saving
     * a person without `userId` unlinks their account). A `userId` another person holds is
     * refused with 409, naming the account and its holder: moving an account is two saves,
     * unlink from the holder, then link (docs 8.1).
     */
    async savePerson(input: PersonInput): Promise<{ created: boolean; person: PersonView }> {
      const existing = await Person.findById(input.id, { _id: 1 }).lean();
      try {
        await upsertPerson(deps.models, input, deps.clock(), [
          'email',
          'phone',
          'userId',
          'channels',
          'groupRobot',
        ]);
      } catch (err) {
        if (!(err instanceof AccountTakenError)) throw err;
        throw new AppError('conflict', err.message, [
          {
            path: 'body.userId',
            message: `account "${err.userId}" is linked to person "${err.holderId}"`,
          },
        ]);
      }
      // The robot's key and secret are write-only: the answer shows them masked.
      const { groupRobot, ...person } = input;
      const robot = robotViewOf(groupRobot);
      return { created: !existing, person: { ...person, ...(robot ? { groupRobot: robot } : {}) } };
    },

    async listPeople(
      principal: Principal,
      query: { unitId?: string; role?: string; page: number; pageSize: number },
    ): Promise<{ items: PersonView[]; page: number; pageSize: number; total: number }> {
      let ids: string[] | undefined;
      if (query.unitId !== undefined || query.role !== undefined) {
        const posts = await PostModel.find(
          {
            ...(query.unitId !== undefined ? { unitId: query.unitId } : {}),
            ...(query.role !== undefined ? { role: query.role } : {}),
          },
          { personId: 1 },
        ).lean();
        ids = [...new Set(posts.map((p) => p.personId))];
      }
      const scope = await deps.scope.resolve(principal);
      const readable = await readablePeople(principal, scope);
      if (readable) ids = (ids ?? [...readable]).filter((id) => readable.has(id));
      const filter = ids === undefined ? {} : { _id: { $in: ids } };
      const rows = await Person.find(filter, PERSON_FIELDS)
        .sort({ _id: 1 })
        .skip(skipOf(query))
        .limit(query.pageSize)
        .lean<PersonRecord[]>();
      const total = await totalOf(query, rows.length, () => Person.countDocuments(filter));
      const docs = scope.all
        ? rows
        : redactContacts(
            rows,
            await contactReadable(
              principal,
              scope,
              rows.map((d) => d._id),
            ),
          );
      return {
        items: docs.map((d) => personViewOf(d, scope.all && hasAnyRole(principal, ['admin']))),
        page: query.page,
        pageSize: query.pageSize,
        total,
      };
    },

    /**
     * A person with their posts; 404 for staff when they hold no post in the staff's scope.
     * Email and phone as in {@link PersonView}.
     */
    async getPerson(principal: Principal, id: string): Promise<PersonDetail> {
      const scope = await deps.scope.resolve(principal);
      const found = await Person.findById(id, PERSON_FIELDS).lean<PersonRecord>();
      const posts = found
        ? await PostModel.find({ personId: id }).sort({ unitId: 1, role: 1 }).lean()
        : [];
      const readable = await readablePeople(principal, scope);
      if (!found || (readable && !readable.has(id))) {
        throw new AppError('not_found', `No person "${id}"`);
      }
      const doc = scope.all
        ? found
        : redactContacts([found], await contactReadable(principal, scope, [id], posts))[0]!;
      const units = await Unit.find(
        { _id: { $in: posts.map((p) => p.unitId) } },
        { name: 1 },
      ).lean();
      const names = new Map(units.map((u) => [u._id, u.name]));
      return {
        ...personViewOf(doc, scope.all && hasAnyRole(principal, ['admin'])),
        posts: posts.map((p) => ({
          unitId: p.unitId,
          unitName: names.get(p.unitId) ?? '',
          role: p.role,
        })),
      };
    },

    /** Gives a person a role in a unit; both must exist. Safe to repeat. */
    async addPost(post: PostInput): Promise<{ created: boolean; post: PostInput }> {
      const problems: ErrorDetail[] = [];
      if (!(await Unit.findById(post.unitId, { _id: 1 }).lean())) {
        problems.push({ path: 'body.unitId', message: `unknown unit "${post.unitId}"` });
      }
      if (!(await Person.findById(post.personId, { _id: 1 }).lean())) {
        problems.push({ path: 'body.personId', message: `unknown person "${post.personId}"` });
      }
      if (problems.length > 0) {
        throw new AppError('unprocessable', 'The post names an unknown unit or person', problems);
      }
      const existing = await PostModel.findById(postIdOf(post), { _id: 1 }).lean();
      await upsertPost(deps.models, post);
      return { created: !existing, post };
    },

    async removePost(post: PostInput): Promise<void> {
      const result = await PostModel.deleteOne({ _id: postIdOf(post) });
      if (result.deletedCount > 0) await bumpOrgRevision(deps.models);
      if (result.deletedCount === 0) {
        throw new AppError(
          'not_found',
          `"${post.personId}" holds no post "${post.role}" in unit "${post.unitId}"`,
        );
      }
    },

    /** A page of units: every unit, the children of `parentId`, or the roots when it is null. */
    async listUnits(query: { parentId?: string | null; page: number; pageSize: number }) {
      const filter = query.parentId === undefined ? {} : { parentId: query.parentId };
      const docs = await Unit.find(filter)
        .sort({ _id: 1 })
        .skip(skipOf(query))
        .limit(query.pageSize)
        .lean();
      const total = await totalOf(query, docs.length, () => Unit.countDocuments(filter));
      return {
        items: docs.map((d) => ({
          id: d._id,
          name: d.name,
          type: d.type as UnitType,
          parentId: d.parentId ?? null,
        })),
        page: query.page,
        pageSize: query.pageSize,
        total,
      };
    },

    unitOutline,

    /** A page of the posts held in a unit, by role and person, with the holders' names. */
    async listPosts(query: { unitId: string; page: number; pageSize: number }): Promise<{
      items: Array<PostInput & { personName: string }>;
      page: number;
      pageSize: number;
      total: number;
    }> {
      const filter = { unitId: query.unitId };
      const posts = await PostModel.find(filter)
        .sort({ role: 1, personId: 1 })
        .skip(skipOf(query))
        .limit(query.pageSize)
        .lean();
      const total = await totalOf(query, posts.length, () => PostModel.countDocuments(filter));
      const people = await Person.find(
        { _id: { $in: posts.map((p) => p.personId) } },
        { name: 1 },
      ).lean();
      const names = new Map(people.map((p) => [p._id, p.name]));
      return {
        items: posts.map((p) => ({
          unitId: p.unitId,
          role: p.role,
          personId: p.personId,
          personName: names.get(p.personId) ?? '',
        })),
        page: query.page,
        pageSize: query.pageSize,
        total,
      };
    },

    /**
     * Sends a test message to a unit's group robot and answers what its vendor said: the robot
     * check of the admin console and `POST /api/v1/org/units/:id/robot/test`. A direct send, not
     * through the outbox: it is no notification of any case, so no figure counts it, and the
     * message says it is a test. 404 when the unit is unknown or has no robot. The answer never
     * names the webhook (its key).
     */
    async testUnitRobot(id: string): Promise<RobotTestResult> {
      const doc = await Unit.findById(id, { groupRobot: 1 }).lean();
      if (!doc) throw new AppError('not_found', `No unit "${id}"`);
      const robot = doc.groupRobot;
      if (!robot?.channel || !robot.webhook) {
        throw new AppError('not_found', `Unit "${id}" has no group robot`);
      }
      const outcome = await postToRobot(
        { channel: robot.channel, webhook: robot.webhook, secret: robot.secret },
        ROBOT_TEST_MESSAGE,
        { now: () => deps.clock().getTime() },
      );
      return outcome.outcome === 'accepted'
        ? { delivered: true, outcome: 'accepted', answer: 'errcode 0' }
        : { delivered: false, outcome: outcome.outcome, answer: outcome.reason };
    },

    /**
     * A unit's group robot as admins see it (vendor, webhook with its key masked, whether it is
     * signed), or null when it has none: the console's unit page, for admins only.
     */
    async unitRobot(id: string): Promise<RobotView | null> {
      const doc = await Unit.findById(id, { groupRobot: 1 }).lean();
      if (!doc) throw new AppError('not_found', `No unit "${id}"`);
      return robotViewOf(doc.groupRobot) ?? null;
    },

    /**
     * A unit with its ancestry and the posts held in it: the unit and each ancestor read by `_id`
     * ({@link unitOutline}), never the whole tree.
     */
    async getUnit(id: string, principal?: Principal): Promise<UnitView> {
      const outline = await unitOutline(id);
      const pairedWith = await pairings.ofUnit(id);
      // The robot is admin data: read (and shown masked) for admins only.
      const robot =
        principal && hasAnyRole(principal, ['admin'])
          ? robotViewOf((await Unit.findById(id, { groupRobot: 1 }).lean())?.groupRobot)
          : undefined;
      const posts = await PostModel.find({ unitId: id }).sort({ role: 1, personId: 1 }).lean();
      const people = await Person.find(
        { _id: { $in: posts.map((p) => p.personId) } },
        { name: 1 },
      ).lean();
      const names = new Map(people.map((p) => [p._id, p.name]));
      return {
        ...outline,
        posts: posts.map((p) => ({
          role: p.role,
          personId: p.personId,
          personName: names.get(p.personId) ?? '',
        })),
        pairings: pairedWith,
        ...(robot ? { groupRobot: robot } : {}),
      };
    },
  };
}

export type OrgService = ReturnType<typeof createOrgService>;

/**
 * Roles that read the email and phone of people posted in their scope; admins read everyone's.
 * Staff read none (they see colleagues' names only).
 */
const CONTACT_ROLES = SUPERVISOR_ROLES;

/** What a person is read with; contacts a reader may not see are dropped by `redactContacts`. */
const PERSON_FIELDS = {
  name: 1,
  userId: 1,
  email: 1,
  phone: 1,
  channels: 1,
  groupRobot: 1,
} as const;

/** A stored person as read for a reader: contacts only when allowed. */
interface PersonRecord {
  _id: string;
  name: string;
  userId?: string | null;
  email?: string | null;
  phone?: string | null;
  channels?: string[] | null;
  groupRobot?: { channel?: string | null; webhook?: string | null; secret?: string | null } | null;
}

/** A person for a reader; the robot (masked) only when `admin`. */
function personViewOf(doc: PersonRecord, admin = false): PersonView {
  const robot = admin ? robotViewOf(doc.groupRobot) : undefined;
  return {
    id: doc._id,
    name: doc.name,
    ...(doc.userId ? { userId: doc.userId } : {}),
    ...(doc.email ? { email: doc.email } : {}),
    ...(doc.phone ? { phone: doc.phone } : {}),
    ...(doc.channels && doc.channels.length > 0 ? { channels: doc.channels } : {}),
    ...(robot ? { groupRobot: robot } : {}),
  };
}
