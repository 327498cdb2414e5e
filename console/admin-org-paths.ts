import { AppError } from '../services/errors';
import { orgId } from '../services/org-input';
import type { PageContext } from './pipeline';
import { BASE } from './pipeline';

/** The admin console's page of a unit (org tree, its posts, robot, rota and pairings hang off it). */
export function unitPath(id: string): string {
  return `${BASE}/admin/org/units/${encodeURIComponent(id)}`;
}

/** The admin console's page of a person. */
export function personPath(id: string): string {
  return `${BASE}/admin/org/people/${encodeURIComponent(id)}`;
}

/**
 * The unit id of an admin page's route (`:id`, or the route's own name for it), checked as an org
 * id: anything else is a page that does not exist (404 naming the id), never a store query.
 */
export function unitIdOf(ctx: PageContext, param = 'id'): string {
  const id = String(ctx.req.params[param]);
  if (!orgId.safeParse(id).success) {
    throw new AppError('not_found', ctx.t('admin.org.noUnit', { id }));
  }
  return id;
}
