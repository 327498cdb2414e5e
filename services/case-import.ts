import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { ImportedCase, ImportedCaseDocument, ImportProblem } from '../common/case-import';
import { checkImportedCase } from '../common/case-import';
import type { DefinitionSnapshot } from '../lang/definition';
import type { CaseImportResult } from '../workflows/case-import';
import { CASE_IMPORT_WORKFLOW_TYPE } from '../workflows/case-import';
import type { Principal } from './auth';
import { AppError } from './errors';
import type { Models } from '../models';
import type { ScopeResolver } from './scope';
import { caseIdFor } from './cases';
import type { DefinitionService } from './definitions';
import { canonicalJson } from '../common/canonical-json';
import { withInputDefaults } from '../lang/case-data';

/** Records one request may bring; a larger history comes in several batches. */
export const MAX_IMPORT_BATCH = 200;

export interface CaseImportRequest {
  /** The caller's name for this batch (e.g. `legacy-2026-05`); a batch run again imports nothing twice. */
  batch: string;
  cases: ImportedCase[];
}

export interface CaseImportReport extends CaseImportResult {
  batch: string;
  caseIds: string[];
}

/**
 * Imports closed historical cases (历史工单导入): every record is checked against the version of
 * the process it names and the org tree, all problems reported at once and nothing written when
 * there is any; then one import workflow writes them through an activity, idempotently. The case
 * id derives from the record's external id, so the same record always lands on the same case.
 */
export function createCaseImportService(deps: {
  temporal: Client;
  taskQueue: string;
  definitions: Pick<DefinitionService, 'snapshot'>;
  scope: Pick<ScopeResolver, 'unknownUnits'>;
  models: Pick<Models, 'Case' | 'Person'>;
}) {
  return {
    async importCases(principal: Principal, request: CaseImportRequest): Promise<CaseImportReport> {
      if (!principal.roles.includes('admin')) {
        throw new AppError('forbidden', 'Importing cases needs the admin role');
      }
      if (request.cases.length === 0 || request.cases.length > MAX_IMPORT_BATCH) {
        throw new AppError('invalid_request', `A batch holds 1 to ${MAX_IMPORT_BATCH} cases`, [
          { path: 'body.cases', message: `1 to ${MAX_IMPORT_BATCH} records` },
        ]);
      }
      const versions = new Map<string, DefinitionSnapshot | null>();
      const problems: ImportProblem[] = [];
      const documents: ImportedCaseDocument[] = [];
      const seen = new Map<string, number>();
      for (const [i, record] of request.cases.entries()) {
        const prefix = `body.cases[${i}]`;
        const earlier = seen.get(record.externalId);
        if (earlier !== undefined) {
          problems.push({ path: `${prefix}.externalId`, message: `the same as cases[${earlier}]` });
          continue;
        }
        seen.set(record.externalId, i);
        const versionKey = `${record.definitionKey}@${record.definitionVersion}`;
        if (!versions.has(versionKey)) {
          versions.set(
            versionKey,
            await deps.definitions.snapshot(record.definitionKey, record.definitionVersion),
          );
        }
        const definition = versions.get(versionKey) ?? null;
        if (!definition) {
          problems.push({
            path: `${prefix}.definitionVersion`,
            message: `no published or retired version ${versionKey}`,
          });
          continue;
        }
        const caseId = caseIdFor('import', record.externalId);
        // Fields a record leaves out take their default (项目年度: the year it was received), as a
        // live start's do, so an imported case is stored and counted as the engine would have.
        const filled: ImportedCase = {
          ...record,
          data: withInputDefaults(definition.spec.input.fields, record.data, {
            id: caseId,
            unitId: record.unitId,
            channel: 'import',
            definition: record.definitionKey,
            receivedAt: record.receivedAt,
          }),
        };
        problems.push(...checkImportedCase(filled, definition, prefix));
        documents.push({
          ...filled,
          caseId,
          definitionName: definition.spec.name,
          ...(definition.spec.measures !== undefined ? { measures: definition.spec.measures } : {}),
          requestHash: createHash('sha256').update(canonicalJson(record)).digest('hex'),
        });
      }
      const units = [...new Set(request.cases.flatMap((c) => (c.unitId ? [c.unitId] : [])))];
      const unknown = new Set(await deps.scope.unknownUnits(units));
      request.cases.forEach((record, i) => {
        if (record.unitId !== null && unknown.has(record.unitId)) {
          problems.push({ path: `body.cases[${i}].unitId`, message: `no unit "${record.unitId}"` });
        }
      });
      // Who served: units and people of the org tree.
      const servingUnits = [...new Set(request.cases.flatMap((c) => c.servedBy?.unitIds ?? []))];
      const unknownServing = new Set(await deps.scope.unknownUnits(servingUnits));
      const servingPeople = [...new Set(request.cases.flatMap((c) => c.servedBy?.personIds ?? []))];
      const knownPeople = new Set(
        servingPeople.length === 0
          ? []
          : (await deps.models.Person.find({ _id: { $in: servingPeople } }, { _id: 1 }).lean()).map(
              (p) => String(p._id),
            ),
      );
      request.cases.forEach((record, i) => {
        record.servedBy?.unitIds.forEach((id, j) => {
          if (unknownServing.has(id)) {
            problems.push({
              path: `body.cases[${i}].servedBy.unitIds[${j}]`,
              message: `no unit "${id}"`,
            });
          }
        });
        record.servedBy?.personIds.forEach((id, j) => {
          if (!knownPeople.has(id)) {
            problems.push({
              path: `body.cases[${i}].servedBy.personIds[${j}]`,
              message: `no person "${id}"`,
            });
          }
        });
      });
      // A record whose case exists with other content (the same external id from another
      // source, or an edited record) is refused here, before anything of the batch is written.
      const stored = new Map(
        (
          await deps.models.Case.find(
            { _id: { $in: documents.map((d) => d.caseId) } },
            { requestHash: 1 },
          ).lean()
        ).map((doc) => [doc._id, doc.requestHash]),
      );
      request.cases.forEach((record, i) => {
        const document = documents.find((d) => d.externalId === record.externalId);
        const hash = document ? stored.get(document.caseId) : undefined;
        if (document && hash !== undefined && hash !== document.requestHash) {
          problems.push({
            path: `body.cases[${i}].externalId`,
            message: `already imported (case ${document.caseId}) with other content`,
          });
        }
      });
      if (problems.length > 0) {
        throw new AppError(
          'unprocessable',
          'Some records cannot be imported; nothing was',
          problems,
        );
      }

      const batchHash = createHash('sha256').update(request.batch).digest('hex').slice(0, 24);
      try {
        const result: CaseImportResult = await deps.temporal.workflow.execute<
          (records: ImportedCaseDocument[]) => Promise<CaseImportResult>
        >(CASE_IMPORT_WORKFLOW_TYPE, {
          taskQueue: deps.taskQueue,
          workflowId: `case-import-${batchHash}`,
          // No worker on the queue (the stack not started) fails the call instead of hanging it.
          workflowExecutionTimeout: '5 minutes',
          args: [documents],
        });
        return {
          batch: request.batch,
          caseIds: documents.map((d) => d.caseId),
          ...result,
        };
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          throw new AppError('conflict', `Batch "${request.batch}" is being imported; try again`);
        }
        throw err;
      }
    },
  };
}

export type CaseImportService = ReturnType<typeof createCaseImportService>;
