import { pagerOf } from '../format';
import type { ConsoleKit } from '../kit';
import { BASE } from '../pipeline';
import { periodText, roundHref } from '../report-evaluations';
import { ASSESSMENT_KINDS, ASSESSMENT_READERS, assessmentFilterOf } from '../report-assessments';
import { decimal2, pageOf } from '../report-format';
import { exportLinks } from './exports';

/**
 * The annual assessment records (年度考核记录) a closed 评单 round writes for each secretary (述职考核),
 * each unit of the place and each serving unit (双评双考), and the street's assessment of the
 * departments (条块考核) writes for each department: the records the reader supervises, by
 * year and kind, with the round each came from, and the ledger as CSV or XLSX.
 */

const ASSESSMENTS = `${BASE}/assessments`;
const LIST_SIZE = 50; // chosen: a street's secretaries and units of one round on one page
export function registerAssessmentPages({ pages, services }: ConsoleKit): void {
  pages.add({
    method: 'get',
    path: '/assessments',
    access: ASSESSMENT_READERS,
    handle: async (ctx) => {
      const { t } = ctx;
      const filter = assessmentFilterOf(ctx);
      const page = pageOf(ctx.query);
      const list = await services.evaluations.assessments(ctx.principal!, {
        ...filter,
        page,
        pageSize: LIST_SIZE,
      });
      const query = {
        year: filter.year !== undefined ? String(filter.year) : undefined,
        kind: filter.kind,
      };
      return {
        view: 'assessments',
        model: {
          title: t('report.assess.title'),
          year: query.year ?? '',
          kindOptions: ASSESSMENT_KINDS.map((kind) => ({
            value: kind,
            label: t(`report.assess.kind.${kind}`),
            selected: kind === filter.kind,
          })),
          records: list.items.map((r) => ({
            year: r.year,
            kind: t(`report.assess.kind.${r.kind}`),
            name: r.name,
            subjectId: r.subjectId,
            units: r.unitNames.join('、'),
            period: periodText(r.period),
            items: r.items,
            scored: r.scored,
            missing: r.missing,
            score: decimal2(r.score),
            // 条块考核: the street's weight, its part and the veto; the link goes to its case.
            department: r.kind === 'department',
            weight: r.weight !== undefined ? `${r.weight}%` : '',
            weighted: r.weightedScore === undefined ? '' : decimal2(r.weightedScore),
            veto: r.veto ? t('report.assess.vetoed', { reason: r.veto.reason }) : '',
            roundHref:
              r.kind === 'department' ? `${BASE}/cases/${r.roundId}` : roundHref(r.roundId),
            linkText: t(
              r.kind === 'department' ? 'report.assess.assessment' : 'report.assess.round',
            ),
          })),
          pager: pagerOf(ASSESSMENTS, query, page, LIST_SIZE, list.total),
          exportLinks: exportLinks('assessments', query),
        },
      };
    },
  });
}
