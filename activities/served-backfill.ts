import type { ServedBy } from '../common/case';
import { servedByOfStored } from '../common/case-served';
import type { TimelineEntry } from '../common/case';
import type { Seen } from '../common/case-served';
import type { MeasuresSpec } from '../lang/definition';
import type { Models } from '../models';

/**
 * Who served (`servedBy`) for the cases projected before the projection recorded it: closed
 * cases without it get it from their stored tasks and timeline, computed by the projection's own
 * tracker (common/case-served.ts `servedByOfStored`), so the figures per serving unit and person
 * count them once the roll-ups are rebuilt (`npm run rebuild-rollups` runs both, this first).
 * Idempotent: a case that has `servedBy` is never read or written again, and the write only lands
 * where the field is still missing. A case nobody took on stays without it, as the projection
 * leaves such a case.
 */
export async function backfillServedBy(
  models: Pick<Models, 'Case' | 'Task' | 'Definition'>,
): Promise<{ cases: number; written: number; noDefinition: number }> {
  const acceptanceOf = new Map<string, Promise<{ found: boolean; acceptance?: string[] }>>();
  const acceptance = (key: string, version: number) => {
    const id = `${key}@${version}`;
    let known = acceptanceOf.get(id);
    if (known === undefined) {
      known = models.Definition.findOne({ key, version }, { spec: 1 })
        .lean()
        .then((doc) => {
          if (doc === null) return { found: false };
          const measures = (doc.spec as { measures?: MeasuresSpec } | undefined)?.measures;
          return measures?.acceptance !== undefined
            ? { found: true, acceptance: [...measures.acceptance] }
            : { found: true };
        });
      acceptanceOf.set(id, known);
    }
    return known;
  };
  let cases = 0;
  let written = 0;
  let noDefinition = 0;
  const cursor = models.Case.find(
    { status: { $ne: 'open' }, servedBy: { $exists: false } },
    { definitionKey: 1, definitionVersion: 1, timeline: 1 },
  )
    .lean()
    .cursor();
  for await (const doc of cursor) {
    cases += 1;
    const definition = await acceptance(doc.definitionKey, doc.definitionVersion);
    // Without its definition the acceptance step is unknown: guessing could name the wrong unit.
    if (!definition.found) {
      noDefinition += 1;
      continue;
    }
    const tasks = await models.Task.find(
      { caseId: String(doc._id) },
      { stepId: 1, kind: 1, status: 1, assignee: 1, claimants: 1, roster: 1, openedAt: 1 },
    )
      .sort({ openedAt: 1, _id: 1 })
      .lean();
    const servedBy: ServedBy = servedByOfStored(
      definition.acceptance,
      (doc.timeline ?? []) as unknown as TimelineEntry[],
      tasks.map((t) => ({ ...t, id: String(t._id), roster: t.roster ?? undefined }) as Seen),
    );
    if (servedBy.unitIds.length === 0 && servedBy.personIds.length === 0) continue;
    const result = await models.Case.collection.updateOne(
      { _id: String(doc._id) as never, servedBy: { $exists: false } },
      { $set: { servedBy } },
    );
    written += result.modifiedCount;
  }
  return { cases, written, noDefinition };
}
