import { z } from 'zod';
import { csvCell } from '../../services/csv-records';
import { orgId, postInput } from '../../services/org-input';
import {
  absenceImport,
  absenceInput,
  absencesFromCsv,
  backupInput,
  backupsFromCsv,
  rotaInput,
  workingHoursInput,
} from '../../services/availability-input';
import type { AvailabilityService } from '../../services/availability';
import { ABSENCE_REASONS } from '../../common/stand-ins';
import type { RouteRegistry } from '../pipeline';
import { errorResponses } from './shared';

/** Imports may be large (a county's leave for a year); as the org imports (api/routes/org.ts). */
const IMPORT_BODY_LIMIT = '5mb';

const absenceSchema = z.object({
  id: z.string(),
  personId: z.string(),
  from: z.string(),
  to: z.string(),
  reason: z
    .enum(ABSENCE_REASONS)
    .optional()
    .meta({ description: 'Present for admins and dispatchers only (it may be sick leave).' }),
  standInId: z.string().nullable(),
});

const shiftSchema = z.object({
  on: z.array(z.string()),
  start: z.string(),
  end: z.string(),
  people: z.array(z.string()),
  roles: z.array(z.string()),
});
const rotaSchema = z.object({ unitId: z.string(), shifts: z.array(shiftSchema) });
const workingHoursSchema = z.object({
  unitId: z.string(),
  from: z.string().nullable().meta({
    description:
      'The unit whose hours apply (this one or the nearest above); null: the default office hours.',
  }),
  windows: z.array(z.object({ start: z.string(), end: z.string() })),
  everyDay: z.boolean(),
});

const absencesCsv = z
  .string({ error: 'send the rows as the body with Content-Type: text/csv' })
  .meta({
    description:
      'A header row, then one absence per row: `personId,from,to,reason` and optionally `id,standInId` (empty for none). Instants in ISO 8601 with their offset.',
    example:
      'personId,from,to,reason,standInId\np-wang,2026-12-08T00:00:00+08:00,2026-12-11T00:00:00+08:00,leave,p-zhao\n',
  });
const backupsCsv = z
  .string({ error: 'send the rows as the body with Content-Type: text/csv' })
  .meta({
    description: 'A header row, then one post per row: `unitId,role,personId` (the B-holder).',
    example: 'unitId,role,personId\ngrid-1,grid-worker,p-zhao\n',
  });

/**
 * Who is available when: absences and their stand-ins, posts' B-holders (AB岗), units' duty
 * rotas (值班表). Admins write (a rota also its unit's director); readers see their scope
 * (services/availability.ts).
 */
export function registerAvailabilityRoutes(
  routes: RouteRegistry,
  availability: AvailabilityService,
): void {
  routes.add<undefined, undefined, undefined, z.infer<typeof absenceInput>>({
    method: 'post',
    path: '/api/v1/org/absences',
    tag: 'org',
    summary: 'Record or replace an absence (person, from, to, reason, optional stand-in)',
    description:
      'While a person is away, tasks and notifications that select them go to the stand-in named here, else to the B-holder of the post they were selected for, else up the tree as for a vacant post (兜底). Without an `id`, the absence is `<personId>-<from, UTC, YYYYMMDDHHmm>`, so a repeat replaces it.',
    roles: ['admin'],
    body: absenceInput,
    responses: {
      201: { description: 'Created', schema: absenceSchema },
      200: { description: 'Replaced', schema: absenceSchema },
      ...errorResponses(400, 401, 403, 422),
    },
    async handle({ body }) {
      const { created, absence } = await availability.saveAbsence(body);
      return { status: created ? 201 : 200, body: absence };
    },
  });

  routes.add<undefined, undefined, undefined, z.infer<typeof absenceImport>>({
    method: 'post',
    path: '/api/v1/org/absences/import',
    tag: 'org',
    summary: 'Import absences (JSON); checked as a whole, safe to repeat',
    roles: ['admin'],
    body: absenceImport,
    bodyLimit: IMPORT_BODY_LIMIT,
    responses: {
      200: {
        description: 'Imported',
        schema: z.object({ absences: z.number(), created: z.number() }),
      },
      ...errorResponses(400, 401, 403, 413, 422),
    },
    async handle({ body }) {
      return { status: 200, body: await availability.importAbsences(body.absences) };
    },
  });

  routes.add<undefined, undefined, undefined, string>({
    method: 'post',
    path: '/api/v1/org/absences/import/csv',
    tag: 'org',
    summary: 'Import absences from a CSV file; checked as a whole, safe to repeat',
    description:
      'Send `Content-Type: text/csv`. Any bad row rejects the whole file and nothing is written; each problem names its cell (`row 7, column to`).',
    roles: ['admin'],
    body: absencesCsv,
    bodyFormat: 'csv',
    bodyLimit: IMPORT_BODY_LIMIT,
    responses: {
      200: {
        description: 'Imported',
        schema: z.object({ absences: z.number(), created: z.number() }),
      },
      ...errorResponses(400, 401, 403, 413, 422),
    },
    async handle({ body }) {
      const { absences, rows } = absencesFromCsv(body);
      const pathOf = (index: number, field: string) => csvCell(rows[index]!, field);
      return { status: 200, body: await availability.importAbsences(absences, { pathOf }) };
    },
  });

  const absenceQuery = z
    .object({
      personId: orgId.optional(),
      at: z.iso.datetime({ offset: true, error: 'an ISO 8601 date-time with offset' }).optional(),
    })
    .strict();
  routes.add<undefined, z.infer<typeof absenceQuery>>({
    method: 'get',
    path: '/api/v1/org/absences',
    tag: 'org',
    summary: "Absences, newest first: one person's, or those covering an instant (`at`)",
    description:
      'Admins see every absence; dispatchers and staff those of people holding a post in their scope. Staff do not see the reason.',
    roles: ['admin', 'dispatcher', 'staff'],
    query: absenceQuery,
    responses: {
      200: { description: 'Absences', schema: z.object({ items: z.array(absenceSchema) }) },
      ...errorResponses(400, 401, 403, 404),
    },
    async handle({ principal, query }) {
      return { status: 200, body: { items: await availability.listAbsences(principal, query) } };
    },
  });

  const absenceParams = z.object({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'an absence id'),
  });
  routes.add<z.infer<typeof absenceParams>>({
    method: 'delete',
    path: '/api/v1/org/absences/:id',
    tag: 'org',
    summary: 'Remove an absence',
    roles: ['admin'],
    params: absenceParams,
    responses: { 204: { description: 'Removed' }, ...errorResponses(400, 401, 403, 404) },
    async handle({ params }) {
      await availability.removeAbsence(params.id);
      return { status: 204 };
    },
  });

  routes.add<undefined, undefined, undefined, z.infer<typeof backupInput>>({
    method: 'put',
    path: '/api/v1/org/backups',
    tag: 'org',
    summary: "Name a post's B-holder (AB岗): who covers it while its holders are away",
    roles: ['admin'],
    body: backupInput,
    responses: {
      201: { description: 'Named', schema: backupInput },
      200: { description: 'Replaced', schema: backupInput },
      ...errorResponses(400, 401, 403, 422),
    },
    async handle({ body }) {
      const { created, backup } = await availability.setBackup(body);
      return { status: created ? 201 : 200, body: backup };
    },
  });

  routes.add<undefined, undefined, undefined, string>({
    method: 'post',
    path: '/api/v1/org/backups/import/csv',
    tag: 'org',
    summary: 'Import B-holders from a CSV file; checked as a whole, safe to repeat',
    roles: ['admin'],
    body: backupsCsv,
    bodyFormat: 'csv',
    bodyLimit: IMPORT_BODY_LIMIT,
    responses: {
      200: { description: 'Imported', schema: z.object({ backups: z.number() }) },
      ...errorResponses(400, 401, 403, 413, 422),
    },
    async handle({ body }) {
      const { backups, rows } = backupsFromCsv(body);
      const pathOf = (index: number, field: string) => csvCell(rows[index]!, field);
      return { status: 200, body: await availability.importBackups(backups, { pathOf }) };
    },
  });

  const backupParams = z.object({ unitId: orgId, role: postInput.shape.role });
  routes.add<z.infer<typeof backupParams>>({
    method: 'delete',
    path: '/api/v1/org/backups/:unitId/:role',
    tag: 'org',
    summary: "Remove a post's B-holder",
    roles: ['admin'],
    params: backupParams,
    responses: { 204: { description: 'Removed' }, ...errorResponses(400, 401, 403, 404) },
    async handle({ params }) {
      await availability.removeBackup(params.unitId, params.role);
      return { status: 204 };
    },
  });

  const unitParams = z.object({ id: orgId });
  routes.add<z.infer<typeof unitParams>>({
    method: 'get',
    path: '/api/v1/org/units/:id/backups',
    tag: 'org',
    summary: "The B-holders of a unit's posts",
    roles: ['admin', 'dispatcher', 'staff'],
    params: unitParams,
    responses: {
      200: { description: 'B-holders', schema: z.object({ items: z.array(backupInput) }) },
      ...errorResponses(400, 401, 403, 404),
    },
    async handle({ principal, params }) {
      return { status: 200, body: { items: await availability.listBackups(principal, params.id) } };
    },
  });

  routes.add<z.infer<typeof unitParams>, undefined, undefined, z.infer<typeof rotaInput>>({
    method: 'put',
    path: '/api/v1/org/units/:id/rota',
    tag: 'org',
    summary: "Replace a unit's duty rota (值班表): shifts by weekday, day kind or date",
    description:
      'Written by admins, and by the head of the unit (a person holding its `director` post, signed in with the account their person record names) for that unit only: 403 for any other unit.\n\n' +
      'Each shift runs on days (`mon`…`sun`, `workdays`, `restdays`, `holidays`, or a date `YYYY-MM-DD`) from `start` to `end` (Beijing time, `HH:MM`; an `end` at or before `start` ends the next day) and rosters `people` (ids) and `roles` (their holders in this unit). The selector `onDuty` picks who is on duty when a step runs.',
    roles: ['admin', 'dispatcher', 'staff'],
    params: unitParams,
    body: rotaInput,
    responses: {
      200: { description: 'The rota', schema: rotaSchema },
      ...errorResponses(400, 401, 403, 404, 422),
    },
    async handle({ principal, params, body }) {
      return { status: 200, body: await availability.saveRota(principal, params.id, body) };
    },
  });

  routes.add<z.infer<typeof unitParams>>({
    method: 'get',
    path: '/api/v1/org/units/:id/rota',
    tag: 'org',
    summary: "A unit's duty rota",
    roles: ['admin', 'dispatcher', 'staff'],
    params: unitParams,
    responses: {
      200: { description: 'The rota', schema: rotaSchema },
      ...errorResponses(400, 401, 403, 404),
    },
    async handle({ principal, params }) {
      return { status: 200, body: await availability.getRota(principal, params.id) };
    },
  });

  routes.add<z.infer<typeof unitParams>, undefined, undefined, z.infer<typeof workingHoursInput>>({
    method: 'put',
    path: '/api/v1/org/units/:id/working-hours',
    tag: 'org',
    summary: "Set a unit's own working hours (an evening service, a 365-day station)",
    description:
      'Windows `HH:MM`–`HH:MM` in Beijing time, not overlapping; `everyDay: true` makes weekends and holidays working days. Units below without their own inherit them. Working-time deadlines of the steps run for a unit count in its hours (cases started since this change).',
    roles: ['admin'],
    params: unitParams,
    body: workingHoursInput,
    responses: {
      200: { description: 'The hours', schema: workingHoursSchema },
      ...errorResponses(400, 401, 403, 404, 422),
    },
    async handle({ params, body }) {
      return { status: 200, body: await availability.saveWorkingHours(params.id, body) };
    },
  });

  routes.add<z.infer<typeof unitParams>>({
    method: 'get',
    path: '/api/v1/org/units/:id/working-hours',
    tag: 'org',
    summary: 'The working hours that apply to a unit (its own, inherited, or the default)',
    roles: ['admin', 'dispatcher', 'staff'],
    params: unitParams,
    responses: {
      200: { description: 'The hours', schema: workingHoursSchema },
      ...errorResponses(400, 401, 403, 404),
    },
    async handle({ principal, params }) {
      return { status: 200, body: await availability.getWorkingHours(principal, params.id) };
    },
  });

  routes.add<z.infer<typeof unitParams>>({
    method: 'delete',
    path: '/api/v1/org/units/:id/working-hours',
    tag: 'org',
    summary: "Remove a unit's own working hours (it inherits again)",
    roles: ['admin'],
    params: unitParams,
    responses: { 204: { description: 'Removed' }, ...errorResponses(400, 401, 403, 404) },
    async handle({ params }) {
      await availability.removeWorkingHours(params.id);
      return { status: 204 };
    },
  });
}
