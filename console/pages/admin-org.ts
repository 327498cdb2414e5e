import { AppError } from '../../services/errors';
import { orgId } from '../../services/org-input';
import { BUILTIN_POST_ROLES, UNIT_TYPES } from '../../lang/vocabulary';
import {
  IMPORT_COLUMNS,
  IMPORT_EXAMPLES,
  IMPORT_KINDS,
  cellPathOf,
  cellProblems,
  importFromCsv,
  isImportKind,
} from '../admin-org-import';
import type { ImportKind } from '../admin-org-import';
import { pageNumber, pagerOf } from '../format';
import type { Translate } from '../i18n';
import type { ConsoleKit } from '../kit';
import type { PageContext, PageResult } from '../pipeline';
import { BASE, field } from '../pipeline';
import { registerPairingPages, unitPairings } from './admin-pairings';
import { registerRobotPages, unitRobot } from './admin-robots';
import { personPath, unitPath } from '../admin-org-paths';

const PAGE_SIZE = 25;
const POSTS_PAGE_SIZE = 25;

/**
 * The org tree and its people for admins: the tree one level at a time (a unit's children and
 * the posts held in it, paged, with breadcrumbs to the root), the people (paged, by unit), a
 * person's posts, and the CSV import the API offers, through the same OrgService.
 */
export function registerOrgPages(kit: ConsoleKit): void {
  const { pages, services } = kit;
  const org = services.org;
  registerPairingPages(kit);
  registerRobotPages(kit);

  pages.add({
    method: 'get',
    path: '/admin/org',
    access: ['admin'],
    handle: async (ctx) => {
      const page = pageNumber(ctx.query.page);
      const roots = await org.listUnits({ parentId: null, page, pageSize: PAGE_SIZE });
      return {
        view: 'admin-org',
        model: {
          title: ctx.t('admin.org.title'),
          units: roots.items.map((u) => unitRow(u, ctx.t)),
          pager: pagerOf(`${BASE}/admin/org`, {}, page, PAGE_SIZE, roots.total),
        },
      };
    },
  });

  pages.add({
    method: 'get',
    path: '/admin/org/find',
    access: ['admin'],
    handle: (ctx) => {
      const id = (ctx.query.id ?? '').trim();
      if (!orgId.safeParse(id).success) {
        throw new AppError('invalid_request', ctx.t('admin.org.badId', { id }));
      }
      return { redirect: unitPath(id) };
    },
  });

  pages.add({
    method: 'get',
    path: '/admin/org/units/:id',
    access: ['admin'],
    handle: (ctx) => unitPage(ctx),
  });

  // The robot check: a test message sent now, the unit page answering what the vendor said.
  pages.add({
    method: 'post',
    path: '/admin/org/units/:id/robot/test',
    access: ['admin'],
    limit: 'robot-test',
    handle: async (ctx) => {
      const id = idOf(ctx, 'admin.org.noUnit');
      const result = await org.testUnitRobot(id);
      return unitPage(ctx, {
        delivered: result.delivered,
        message: ctx.t(result.delivered ? 'admin.robot.test.delivered' : 'admin.robot.test.failed'),
        answer: result.answer,
      });
    },
  });

  async function unitPage(
    ctx: PageContext,
    robotTest: { delivered: boolean; message: string; answer: string } | null = null,
  ): Promise<PageResult> {
    const id = idOf(ctx, 'admin.org.noUnit');
    const unit = await org.unitOutline(id);
    const page = pageNumber(ctx.query.page);
    const postsPage = pageNumber(ctx.query.postsPage);
    const [children, posts, pairings, robot] = await Promise.all([
      org.listUnits({ parentId: id, page, pageSize: PAGE_SIZE }),
      org.listPosts({ unitId: id, page: postsPage, pageSize: POSTS_PAGE_SIZE }),
      unitPairings(kit, ctx.principal!, id, ctx.t),
      unitRobot(kit, id, ctx.t),
    ]);
    const done = ctx.query.done;
    const here = unitPath(id);
    return {
      view: 'admin-org-unit',
      model: {
        title: unit.name,
        unit: {
          id: unit.id,
          name: unit.name,
          type: unitTypeLabel(ctx.t, unit.type),
          peopleHref: `${BASE}/admin/org/people?unit=${encodeURIComponent(unit.id)}`,
          location: unit.location ? `${unit.location.lat}, ${unit.location.lng}` : null,
        },
        crumbs: [...unit.ancestry].reverse().map((a) => ({
          name: a.name,
          href: unitPath(a.id),
          type: unitTypeLabel(ctx.t, a.type),
        })),
        children: children.items.map((u) => unitRow(u, ctx.t)),
        pager: pagerOf(here, { postsPage: ctx.query.postsPage }, page, PAGE_SIZE, children.total),
        posts: posts.items.map((p) => ({
          role: roleLabel(ctx.t, p.role),
          roleKey: p.role,
          personId: p.personId,
          personName: p.personName,
          href: personPath(p.personId),
        })),
        postsPager: pagerOf(
          here,
          { page: ctx.query.page },
          postsPage,
          POSTS_PAGE_SIZE,
          posts.total,
          'postsPage',
        ),
        ...pairings,
        ...robot,
        notice:
          done === 'paired' || done === 'unpaired'
            ? ctx.t(`admin.pairing.done.${done}`)
            : done === 'robot-saved' || done === 'robot-removed'
              ? ctx.t(`admin.robot.done.${done}`)
              : null,
        robotTest,
        robotTestAction: `${here}/robot/test`,
      },
    };
  }

  pages.add({
    method: 'get',
    path: '/admin/org/people',
    access: ['admin'],
    handle: async (ctx) => {
      const page = pageNumber(ctx.query.page);
      const unitId = (ctx.query.unit ?? '').trim();
      if (unitId !== '' && !orgId.safeParse(unitId).success) {
        throw new AppError('invalid_request', ctx.t('admin.org.badId', { id: unitId }));
      }
      let unit: { id: string; name: string; href: string } | null = null;
      let missing = false;
      if (unitId !== '') {
        try {
          const outline = await org.unitOutline(unitId);
          unit = { id: outline.id, name: outline.name, href: unitPath(outline.id) };
        } catch (err) {
          if (!(err instanceof AppError && err.kind === 'not_found')) throw err;
          missing = true;
        }
      }
      const listed = await org.listPeople(ctx.principal!, {
        ...(unitId !== '' ? { unitId } : {}),
        page,
        pageSize: PAGE_SIZE,
      });
      return {
        view: 'admin-org-people',
        model: {
          title: unit
            ? ctx.t('admin.people.titleOf', { unit: unit.name })
            : ctx.t('admin.people.title'),
          unitId,
          unit,
          missing,
          people: listed.items.map((p) => ({ ...p, href: personPath(p.id) })),
          pager: pagerOf(
            `${BASE}/admin/org/people`,
            { unit: unitId || undefined },
            page,
            PAGE_SIZE,
            listed.total,
          ),
        },
      };
    },
  });

  pages.add({
    method: 'get',
    path: '/admin/org/people/:id',
    access: ['admin'],
    handle: async (ctx) => {
      const id = idOf(ctx, 'admin.people.noPerson');
      const person = await org.getPerson(ctx.principal!, id);
      return {
        view: 'admin-org-person',
        model: {
          title: person.name,
          person,
          posts: person.posts.map((p) => ({
            unitId: p.unitId,
            unitName: p.unitName || p.unitId,
            href: unitPath(p.unitId),
            role: roleLabel(ctx.t, p.role),
            roleKey: p.role,
          })),
        },
      };
    },
  });

  pages.add({
    method: 'get',
    path: '/admin/org/import',
    access: ['admin'],
    handle: (ctx) => {
      const kind = isImportKind(ctx.query.kind ?? '') ? (ctx.query.kind as ImportKind) : 'units';
      return importPage(ctx, { kind, csv: '', notice: importNotice(ctx) });
    },
  });

  pages.add({
    method: 'post',
    path: '/admin/org/import',
    access: ['admin'],
    handle: async (ctx) => {
      const requested = field(ctx.form, 'kind');
      const kind: ImportKind = isImportKind(requested) ? requested : 'units';
      const csv = field(ctx.form, 'csv');
      try {
        if (csv.trim() === '') {
          throw new AppError('invalid_request', ctx.t('admin.import.empty'));
        }
        const { input, rows } = importFromCsv(kind, csv);
        const result = await org.importOrg(input, { pathOf: cellPathOf(rows) });
        const counts = new URLSearchParams({
          done: 'imported',
          kind,
          units: String(result.units),
          people: String(result.people),
          posts: String(result.posts),
          pairings: String(result.pairings),
        });
        return { redirect: `${BASE}/admin/org/import?${counts.toString()}` };
      } catch (err) {
        if (err instanceof AppError) return importPage(ctx, { kind, csv, error: err });
        throw err;
      }
    },
  });

  function importPage(
    ctx: PageContext,
    state: { kind: ImportKind; csv: string; error?: AppError; notice?: string | null },
  ): PageResult {
    const problems = state.error ? cellProblems(state.error.details, state.csv) : [];
    return {
      status: state.error?.status ?? 200,
      view: 'admin-org-import',
      model: {
        title: ctx.t('admin.import.title'),
        kinds: IMPORT_KINDS.map((k) => ({
          value: k,
          label: ctx.t(`admin.import.kind.${k}`),
          selected: k === state.kind,
          columns: IMPORT_COLUMNS[k].join(', '),
          example: IMPORT_EXAMPLES[k],
        })),
        csv: state.csv,
        notice: state.notice ?? null,
        unitTypes: UNIT_TYPES.map((type) => ({ type, label: unitTypeLabel(ctx.t, type) })),
        failure: state.error
          ? {
              // The CSV reader's message says "nothing was imported" with the first problem; the
              // list below names every cell, so the heading stays short.
              heading: ctx.t('admin.import.failed', { n: problems.length }),
              message: problems.length === 0 ? state.error.message : null,
              problems,
            }
          : null,
      },
    };
  }

  function importNotice(ctx: PageContext): string | null {
    if (ctx.query.done !== 'imported') return null;
    const count = (name: string) => Math.max(0, Number.parseInt(ctx.query[name] ?? '0', 10) || 0);
    return ctx.t('admin.import.done', {
      units: count('units'),
      people: count('people'),
      posts: count('posts'),
      pairings: count('pairings'),
    });
  }
}

function idOf(ctx: PageContext, missingKey: string): string {
  const id = String(ctx.req.params.id);
  if (!orgId.safeParse(id).success) throw new AppError('not_found', ctx.t(missingKey, { id }));
  return id;
}

function unitRow(u: { id: string; name: string; type: string }, t: Translate) {
  return { id: u.id, name: u.name, type: unitTypeLabel(t, u.type), href: unitPath(u.id) };
}

export function unitTypeLabel(t: Translate, type: string): string {
  return (UNIT_TYPES as readonly string[]).includes(type) ? t(`admin.unitType.${type}`) : type;
}

/**
 * A post role as people call it: the built-in ones translated (their messages come from the
 * vocabulary, so every built-in role has one), others by their key.
 */
export function roleLabel(t: Translate, role: string): string {
  return Object.hasOwn(BUILTIN_POST_ROLES, role) ? t(`admin.role.${role}`) : role;
}
