import { AppError } from '../../services/errors';
import type { UnitDirectory } from '../../services/unit-directory';
import type { DefinitionSnapshot } from '../../lang/definition';
import type { Principal } from '../../services/auth';
import { hasAnyRole } from '../../services/auth';
import { controlsOf, idempotencyKeyOf, newFormKey, valuesOf } from '../forms';
import type { ConsoleKit } from '../kit';
import type { PageContext, PageResult } from '../pipeline';
import { BASE, field, fieldErrors } from '../pipeline';
import { unitPath } from '../views-of';

/** Unit types a place can be picked at, under a community: where people live and meet. */
const PLACE_TYPES = ['community', 'grid', 'compound', 'building'];
const ROLE_ORDER = ['resident', 'staff', 'dispatcher', 'admin'] as const;

/**
 * Placing an order (点单/提诉求): choose a process the caller may start, the place (a unit of
 * the org tree: community, then grid, compound or building) and an optional map point, fill the
 * process's own input form. The same start service as `POST /api/v1/cases`, channel `console`.
 */
export function registerResidentPages({ pages, services }: ConsoleKit): void {
  const startable = async (principal: Principal): Promise<DefinitionSnapshot[]> =>
    (await services.definitions.latestSnapshots())
      .filter((d) => hasAnyRole(principal, d.spec.starters))
      .filter((d) => d.spec.input.fields.length > 0 && !d.spec.schedule)
      .sort((a, b) => preferred(a) - preferred(b) || a.key.localeCompare(b.key));

  const orderPage = async (ctx: PageContext, problems?: AppError): Promise<PageResult> => {
    const principal = ctx.principal!;
    const offered = await startable(principal);
    const key = ctx.query.process ?? field(ctx.form, 'process');
    const chosen = offered.find((d) => d.key === key);
    if (!chosen) {
      return {
        view: 'order-choose',
        model: {
          title: ctx.t('order.title'),
          processes: offered.map((d) => ({
            key: d.key,
            name: d.spec.name,
            description: d.spec.description ?? '',
          })),
        },
      };
    }
    const units = await services.units.get();
    const communities = unitsOfType(units, 'community');
    const community = ctx.query.community ?? field(ctx.form, 'community');
    const inCommunity = communities.find((c) => c.id === community)
      ? community
      : communities[0]?.id;
    const place = field(ctx.form, 'place');
    const errors = problems ? fieldErrors(problems, ['data', 'body.data']) : {};
    const fields = chosen.spec.input.fields;
    return {
      status: problems ? problems.status : 200,
      view: 'order',
      model: {
        title: chosen.spec.name,
        process: {
          key: chosen.key,
          name: chosen.spec.name,
          description: chosen.spec.description ?? '',
        },
        communities: communities.map((c) => ({ ...c, selected: c.id === inCommunity })),
        community: inCommunity ?? '',
        places: inCommunity ? placesUnder(units, inCommunity, place) : [],
        placeError: errors.unitId ?? null,
        categories: (chosen.spec.categories ?? []).map((c) => ({
          code: c.code,
          name: c.name,
          selected: c.code === field(ctx.form, 'caseCategory'),
        })),
        categoryError: errors['body.category'] ?? null,
        controls: controlsOf(fields, {
          prefix: 'data',
          values: problems ? ctx.form : {},
          errors,
          t: ctx.t,
        }),
        hasMapPoint: ['lat', 'long'].every((n) => fields.some((f) => f.name === n)),
        problems: problems ? { message: problems.message, details: problems.details } : null,
        formKey: newFormKey(),
      },
    };
  };

  pages.add({
    method: 'get',
    path: '/order',
    access: ['resident', 'dispatcher', 'staff', 'admin'],
    limit: 'case-start',
    handle: (ctx) => orderPage(ctx),
  });

  pages.add({
    method: 'post',
    path: '/order',
    access: ['resident', 'dispatcher', 'staff', 'admin'],
    handle: async (ctx) => {
      const principal = ctx.principal!;
      const chosen = (await startable(principal)).find((d) => d.key === field(ctx.form, 'process'));
      if (!chosen) throw new AppError('not_found', ctx.t('order.noProcess'));
      const key = idempotencyKeyOf(field(ctx.form, 'formKey'));
      if (!key) throw new AppError('invalid_request', ctx.t('order.expired'));
      const place = field(ctx.form, 'place');
      // Named apart from the process's own fields: a definition may have a field called `category`.
      const category = field(ctx.form, 'caseCategory');
      try {
        const started = await services.cases.startCase(
          principal,
          key,
          {
            definitionKey: chosen.key,
            data: valuesOf(chosen.spec.input.fields, ctx.form),
            ...(place ? { unitId: place } : {}),
            ...(category ? { category } : {}),
          },
          { channel: 'console' },
        );
        return { redirect: `${BASE}/cases/${encodeURIComponent(started.case.id)}?done=order` };
      } catch (err) {
        if (err instanceof AppError && err.kind === 'unprocessable') return orderPage(ctx, err);
        throw err;
      }
    },
  });
}

/** Residents see the processes meant for them first (where `resident` is a starter). */
function preferred(d: DefinitionSnapshot): number {
  const index = ROLE_ORDER.findIndex((r) => d.spec.starters.includes(r));
  return index === -1 ? ROLE_ORDER.length : index;
}

function unitsOfType(units: UnitDirectory, type: string): Array<{ id: string; name: string }> {
  return [...units.byId.values()]
    .filter((u) => u.type === type)
    .map((u) => ({ id: u.id, name: unitPath(units, u.id) }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * The places of one community as option groups: the community itself, its grids, compounds and
 * buildings (not entrances and floors: too many to list, and a building locates a need well
 * enough; the address field takes the rest).
 */
function placesUnder(
  units: UnitDirectory,
  communityId: string,
  selected: string,
): Array<{ type: string; options: Array<{ id: string; name: string; selected: boolean }> }> {
  const groups = new Map<string, Array<{ id: string; name: string; selected: boolean }>>();
  const visit = (id: string, depth: number) => {
    const unit = units.byId.get(id);
    if (!unit || depth > 3 || !PLACE_TYPES.includes(unit.type)) return;
    const list = groups.get(unit.type) ?? [];
    list.push({ id: unit.id, name: unitPath(units, unit.id), selected: unit.id === selected });
    groups.set(unit.type, list);
    for (const child of units.children.get(id) ?? []) visit(child, depth + 1);
  };
  visit(communityId, 0);
  return [...groups].map(([type, options]) => ({ type, options }));
}
