import type { AssessmentKind } from '../common/evaluation';
import { ASSESSMENT_KINDS as KINDS } from '../common/evaluation';
import type { Role } from '../common/roles';
import { AppError } from '../services/errors';
import type { PageContext } from './pipeline';

/**
 * The filters of the annual assessment records (年度考核记录) as the console page and its ledger
 * download read them from the query, and who may read them.
 */

export const ASSESSMENT_KINDS: readonly AssessmentKind[] = KINDS;
/** Who reads the records, as the API's `GET /api/v1/assessments` (each within their scope). */
export const ASSESSMENT_READERS: readonly Role[] = ['admin', 'dispatcher', 'staff'];

/** The page's filters, each checked: a bad one is named, not ignored. */
export function assessmentFilterOf(ctx: PageContext): { year?: number; kind?: AssessmentKind } {
  const year = ctx.query.year?.trim() ?? '';
  const kind = ctx.query.kind?.trim() ?? '';
  if (year !== '' && !/^(19|20|21)\d{2}$/.test(year)) {
    throw new AppError('invalid_request', ctx.t('report.assess.badYear'), [
      { path: 'query.year', message: ctx.t('report.assess.badYear') },
    ]);
  }
  if (kind !== '' && !(ASSESSMENT_KINDS as readonly string[]).includes(kind)) {
    throw new AppError('invalid_request', ctx.t('report.assess.badKind'), [
      { path: 'query.kind', message: ctx.t('report.assess.badKind') },
    ]);
  }
  return {
    ...(year !== '' ? { year: Number(year) } : {}),
    ...(kind !== '' ? { kind: kind as AssessmentKind } : {}),
  };
}
