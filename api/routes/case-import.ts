import { z } from 'zod';
import type { ImportedCase } from '../../common/case-import';
import type { RouteRegistry } from '../pipeline';
import type { CaseImportService } from '../../services/case-import';
import { MAX_IMPORT_BATCH } from '../../services/case-import';
import { errorResponses } from './shared';

const actor = z.object({
  kind: z.enum(['user', 'apiKey', 'system']),
  id: z.string().min(1).max(100),
});
const detailValue = z.union([z.string().max(500), z.number(), z.boolean()]);
const text = (max: number) => z.string().min(1).max(max);

const importedCase = z
  .object({
    externalId: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'letters, digits and _ . : - (1–100)')
      .meta({ description: "The source system's id of the record; the case id derives from it" }),
    definitionKey: z.string().regex(/^[a-z][a-z0-9-]{1,62}$/, 'a definition key'),
    definitionVersion: z.number().int().min(1),
    unitId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'a unit id')
      .nullable(),
    category: z.string().max(63).nullable(),
    data: z.record(z.string(), z.unknown()),
    createdBy: actor,
    status: z.enum(['closed', 'rejected', 'cancelled']),
    receivedAt: z.iso.datetime({ offset: true }),
    closedAt: z.iso.datetime({ offset: true }),
    events: z
      .array(
        z
          .object({
            type: z.string().max(40),
            at: z.iso.datetime({ offset: true }),
            actor,
            stepId: z.string().max(63).optional(),
            via: z.string().max(40).optional(),
            detail: z.record(z.string(), detailValue).optional(),
          })
          .strict(),
      )
      .min(2)
      .max(500),
    rating: z
      .object({
        score: z.number().int().min(1).max(5).nullable(),
        comment: text(1000).nullable(),
        at: z.iso.datetime({ offset: true }),
      })
      .strict()
      .nullable(),
    publication: z
      .object({
        title: text(200),
        outcome: text(200).nullable(),
        fields: z
          .array(z.object({ label: text(100), value: z.string().max(1000) }).strict())
          .max(50),
        publishedAt: z.iso.datetime({ offset: true }),
      })
      .strict()
      .nullable(),
    servedBy: z
      .object({
        unitIds: z.array(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a unit id')).max(20),
        personIds: z.array(z.string().min(1).max(100)).max(20),
      })
      .strict()
      .optional()
      .meta({
        description:
          'Who served the case (接单/签收): units and people of the org tree; counted in the metrics by who served and in evaluation rounds',
      }),
  })
  .strict();

const importBody = z
  .object({
    batch: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'a batch name such as legacy-2026-05')
      .meta({ description: 'Your name for the batch; sending it again imports nothing twice' }),
    cases: z.array(importedCase).min(1).max(MAX_IMPORT_BATCH),
  })
  .strict();

export function registerCaseImportRoutes(routes: RouteRegistry, imports: CaseImportService): void {
  routes.add<undefined, undefined, undefined, z.infer<typeof importBody>>({
    method: 'post',
    path: '/api/v1/cases/import',
    tag: 'cases',
    summary: 'Import closed historical cases (历史工单导入)',
    description: `Brings closed cases from before the engine (another system's records, or the demo county's past months) into the read model, so metrics and the public board include them. Every record is checked against the process version it names (data, category, unit, who served it, a timeline from case.started to case.closed in time order); any problem rejects the whole batch with every problem listed. A record always lands on the same case (by its externalId), so a batch sent again changes nothing. At most ${MAX_IMPORT_BATCH} records a batch.`,
    roles: ['admin'],
    body: importBody,
    responses: {
      200: {
        description: 'What was imported',
        schema: z.object({
          batch: z.string(),
          imported: z.number().int(),
          alreadyThere: z.number().int(),
          caseIds: z.array(z.string()),
        }),
      },
      ...errorResponses(400, 401, 403, 409, 422),
    },
    async handle({ principal, body }) {
      const report = await imports.importCases(principal, {
        batch: body.batch,
        cases: body.cases as ImportedCase[],
      });
      return { status: 200, body: report };
    },
  });
}
