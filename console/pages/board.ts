import { AppError } from '../../services/errors';
import type { BoardItem, BoardQuery } from '../../services/board';
import type { UnitDirectory } from '../../services/unit-directory';
import { formatInstant, pagerOf } from '../format';
import type { Translate } from '../i18n';
import type { ConsoleKit } from '../kit';
import type { PageContext } from '../pipeline';
import { BASE } from '../pipeline';
import type { Choice, ChoiceGroup } from '../report-format';
import { CASE_ID, UNIT_ID, durationText, pageOf, statusName } from '../report-format';
import { nameOf, unitTypeName } from '../report-units';

/**
 * The public board (公示栏): published cases for anyone, without signing in, as the board
 * service gives them (masked when published; placed no lower than the compound). Filters by
 * community (or a whole street) and category are a GET form; the list is paged.
 */

const PATH = `${BASE}/board`;
const PAGE_SIZE = 20;
/** Category names change rarely: read the published processes at most once a minute. */
const CATEGORY_TTL_MS = 60_000;

interface CategoryName {
  code: string;
  name: string;
}

export function registerBoardPages({ pages, services, clock }: ConsoleKit): void {
  let categoryCache: { at: number; names: Promise<CategoryName[]> } | null = null;

  /** The categories of processes that publish to the board, by code (first name wins). */
  function categories(): Promise<CategoryName[]> {
    const now = clock().getTime();
    if (categoryCache && now - categoryCache.at < CATEGORY_TTL_MS) return categoryCache.names;
    const names = services.definitions.latestSnapshots().then((snapshots) => {
      const byCode = new Map<string, string>();
      for (const snapshot of snapshots) {
        if (!snapshot.spec.steps.some((s) => s.type === 'publish')) continue;
        for (const c of snapshot.spec.categories ?? []) {
          if (!byCode.has(c.code)) byCode.set(c.code, c.name);
        }
      }
      return [...byCode]
        .map(([code, name]) => ({ code, name }))
        .sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'));
    });
    const entry = { at: now, names };
    categoryCache = entry;
    names.catch(() => {
      if (categoryCache === entry) categoryCache = null;
    });
    return names;
  }

  /** Streets with their communities, as option groups. */
  function placeGroups(tree: UnitDirectory, selected: string, t: Translate): ChoiceGroup[] {
    const byName = (a: string, b: string) =>
      nameOf(tree, a).localeCompare(nameOf(tree, b), 'zh-CN');
    const streets = [...tree.byId.values()]
      .filter((u) => u.type === 'street')
      .map((u) => u.id)
      .sort(byName);
    const groups: ChoiceGroup[] = streets.map((streetId) => ({
      label: nameOf(tree, streetId),
      options: [
        {
          value: streetId,
          label: t('report.board.wholeStreet', { street: nameOf(tree, streetId) }),
          selected: streetId === selected,
        },
        ...[...(tree.children.get(streetId) ?? [])]
          .filter((id) => tree.byId.get(id)?.type === 'community')
          .sort(byName)
          .map((id) => ({ value: id, label: nameOf(tree, id), selected: id === selected })),
      ],
    }));
    // Communities hung directly under a county or a root (a tree without streets).
    const loose = [...tree.byId.values()]
      .filter((u) => u.type === 'community' && tree.byId.get(u.parentId ?? '')?.type !== 'street')
      .map((u) => u.id)
      .sort(byName);
    if (loose.length > 0) {
      groups.push({
        label: unitTypeName('community', t),
        options: loose.map((id) => ({
          value: id,
          label: nameOf(tree, id),
          selected: id === selected,
        })),
      });
    }
    return groups;
  }

  function itemView(item: BoardItem, names: ReadonlyMap<string, string>, t: Translate) {
    return {
      id: item.id,
      href: `${PATH}/${item.id}`,
      title: item.title,
      process: item.process.name,
      category: item.category === null ? '' : (names.get(item.category) ?? item.category),
      place: item.place.map((p) => p.name).join(' › '),
      outcome: item.outcome ?? '',
      status: statusName(item.status, t),
      statusCode: item.status,
      fields: item.fields,
      receivedAt: formatInstant(item.receivedAt),
      publishedAt: formatInstant(item.publishedAt),
      closedAt: formatInstant(item.closedAt),
      handling: item.handlingMinutes === null ? '' : durationText(item.handlingMinutes, t),
      score: item.score,
      scoreText: item.score === null ? '' : t('report.board.score', { score: item.score }),
    };
  }

  pages.add({
    method: 'get',
    path: '/board',
    access: 'public',
    handle: async (ctx: PageContext) => {
      const { t } = ctx;
      const unitId = (ctx.query.unitId ?? '').trim();
      const category = (ctx.query.category ?? '').trim();
      const page = pageOf(ctx.query);
      const tree = await services.units.knowing(UNIT_ID.test(unitId) ? unitId : undefined);
      const known = await categories();
      const names = new Map(known.map((c) => [c.code, c.name]));
      const problems: Array<{ path: string; message: string }> = [];
      if (unitId !== '' && (!UNIT_ID.test(unitId) || !tree.byId.has(unitId))) {
        problems.push({ path: 'unitId', message: t('report.board.noPlace') });
      }
      if (category.length > 63) {
        problems.push({ path: 'category', message: t('report.board.badCategory') });
      }
      const query: BoardQuery = {
        page,
        pageSize: PAGE_SIZE,
        ...(unitId && problems.length === 0 ? { unitId } : {}),
        ...(category && problems.length === 0 ? { category } : {}),
      };
      const list =
        problems.length === 0
          ? await services.board.list(query)
          : { items: [], total: 0, totalIsEstimate: false, page: 1, pageSize: PAGE_SIZE };
      const categoryOptions: Choice[] = known.map((c) => ({
        value: c.code,
        label: c.name,
        selected: c.code === category,
      }));
      // A category asked for by code that no publishing process lists (an older version's).
      if (category && !names.has(category) && problems.length === 0) {
        categoryOptions.push({ value: category, label: category, selected: true });
      }
      return {
        status: problems.length > 0 ? 400 : 200,
        view: 'board',
        model: {
          title: t('report.board.title'),
          problems:
            problems.length > 0
              ? { message: t('report.board.badFilters'), details: problems }
              : null,
          filters: {
            placeGroups: placeGroups(tree, unitId, t),
            categoryOptions,
            filtered: Boolean(unitId || category),
          },
          placeName: unitId ? nameOf(tree, unitId) : '',
          items: list.items.map((item) => itemView(item, names, t)),
          pager: pagerOf(
            PATH,
            { unitId, category },
            page,
            PAGE_SIZE,
            list.total,
            'page',
            list.totalIsEstimate,
          ),
        },
      };
    },
  });

  pages.add({
    method: 'get',
    path: '/board/:id',
    access: 'public',
    handle: async (ctx: PageContext) => {
      const id = String(ctx.req.params.id ?? '');
      if (!CASE_ID.test(id)) {
        throw new AppError('not_found', ctx.t('report.board.notFound', { id }));
      }
      const item = await services.board.get(id).catch((err: unknown) => {
        if (err instanceof AppError && err.kind === 'not_found') {
          throw new AppError('not_found', ctx.t('report.board.notFound', { id }));
        }
        throw err;
      });
      const names = new Map((await categories()).map((c) => [c.code, c.name]));
      const view = itemView(item, names, ctx.t);
      return {
        view: 'board-item',
        model: {
          title: `${view.title} · ${ctx.t('report.board.title')}`,
          item: view,
          // Only when the publish step shows photos (services/board.ts); served by the console's
          // public photo page, which checks that again.
          photos: item.photos.map((p) => ({
            href: `${BASE}/board/${encodeURIComponent(item.id)}/photos/${encodeURIComponent(p.id)}`,
            thumbnail: `${BASE}/board/${encodeURIComponent(item.id)}/photos/${encodeURIComponent(p.id)}/thumbnail`,
          })),
        },
      };
    },
  });
}
