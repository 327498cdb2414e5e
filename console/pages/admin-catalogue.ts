import { AppError } from '../../services/errors';
import { orgId } from '../../services/org-input';
import type { CatalogueView } from '../../services/catalogue';
import { CATALOGUE_CSV_COLUMNS } from '../../services/catalogue';
import { cellProblems } from '../admin-org-import';
import type { ConsoleKit } from '../kit';
import type { PageContext, PageResult } from '../pipeline';
import { BASE, field } from '../pipeline';
import { unitIdOf } from '../admin-org-paths';

const CSV_EXAMPLE = [
  CATALOGUE_CSV_COLUMNS.join(','),
  '环境卫生,dept-city,,垃圾;清运,5 working days,',
  '供水,dept-water,street-a,停水;水压,24 hours,',
].join('\n');

/**
 * The dispatch catalogue (派单目录) for admins: every catalogue with its current revision, one
 * unit's catalogue (any revision) with its revisions, and the CSV upload that publishes the next
 * revision, through the same CatalogueService as the API (`/api/v1/catalogues`).
 */
export function registerCataloguePages({ pages, services }: ConsoleKit): void {
  const catalogue = services.catalogue;

  pages.add({
    method: 'get',
    path: '/admin/catalogues',
    access: ['admin'],
    handle: async (ctx) => {
      const open = (ctx.query.unit ?? '').trim();
      if (open !== '') {
        if (!orgId.safeParse(open).success) {
          throw new AppError('invalid_request', ctx.t('admin.org.badId', { id: open }));
        }
        return { redirect: cataloguePath(open) };
      }
      const items = await catalogue.list(ctx.principal!);
      return {
        view: 'admin-catalogues',
        model: {
          title: ctx.t('admin.catalogue.title'),
          items: items.map((c) => ({ ...c, href: cataloguePath(c.ownerUnitId) })),
        },
      };
    },
  });

  pages.add({
    method: 'get',
    path: '/admin/catalogues/:unitId',
    access: ['admin'],
    handle: async (ctx) => {
      const unitId = unitIdOf(ctx, 'unitId');
      const asked = Number.parseInt(ctx.query.revision ?? '', 10);
      return cataloguePage(ctx, unitId, {
        csv: '',
        revision: Number.isInteger(asked) && asked > 0 ? asked : undefined,
        notice: ctx.query.done === 'published' ? ctx.t('admin.catalogue.published') : null,
      });
    },
  });

  pages.add({
    method: 'post',
    path: '/admin/catalogues/:unitId/import',
    access: ['admin'],
    handle: async (ctx) => {
      const unitId = unitIdOf(ctx, 'unitId');
      const csv = field(ctx.form, 'csv');
      try {
        if (csv.trim() === '') throw new AppError('invalid_request', ctx.t('admin.import.empty'));
        await catalogue.importCsv(ctx.principal!, unitId, csv);
        return { redirect: `${cataloguePath(unitId)}?done=published` };
      } catch (err) {
        if (err instanceof AppError && err.kind !== 'not_found') {
          return cataloguePage(ctx, unitId, { csv, error: err });
        }
        throw err;
      }
    },
  });

  async function cataloguePage(
    ctx: PageContext,
    unitId: string,
    state: { csv: string; revision?: number; error?: AppError; notice?: string | null },
  ): Promise<PageResult> {
    let shown: CatalogueView | null = null;
    try {
      shown = await catalogue.get(ctx.principal!, unitId, state.revision);
    } catch (err) {
      // A unit without a catalogue yet still offers the upload; an unknown unit is a 404.
      if (!(err instanceof AppError && err.kind === 'not_found')) throw err;
      if (state.revision !== undefined) throw err;
    }
    const revisions = await catalogue.revisions(ctx.principal!, unitId);
    const problems = state.error ? cellProblems(state.error.details, state.csv) : [];
    const name = shown?.ownerName ?? unitId;
    return {
      status: state.error?.status ?? 200,
      view: 'admin-catalogue',
      model: {
        title: ctx.t('admin.catalogue.titleOf', { unit: name }),
        unitId,
        action: `${cataloguePath(unitId)}/import`,
        catalogue: shown,
        revisions: revisions.map((r) => ({
          ...r,
          href: `${cataloguePath(unitId)}?revision=${r.revision}`,
          shown: r.revision === shown?.revision,
        })),
        csv: state.csv,
        columns: CATALOGUE_CSV_COLUMNS.join(', '),
        example: CSV_EXAMPLE,
        notice: state.notice ?? null,
        failure: state.error
          ? {
              heading: ctx.t('admin.import.failed', { n: problems.length }),
              message: problems.length === 0 ? state.error.message : null,
              problems,
            }
          : null,
      },
    };
  }
}

function cataloguePath(unitId: string): string {
  return `${BASE}/admin/catalogues/${encodeURIComponent(unitId)}`;
}
