import { z } from 'zod';
import { ABSENCE_REASONS } from '../common/stand-ins';
import { isShiftDay, minuteOfDay, WEEKDAYS } from '../common/duty-rota';
import { orgId, postInput } from './org-input';
import { readCsvRows } from './csv-records';

/**
 * What absences, B-holders and duty rotas may contain, as zod schemas: the API's JSON bodies and
 * the CSV imports check with these, so the rules live once (services/availability.ts).
 */

/** An instant with its offset (`2026-12-07T09:00:00+08:00`), as the API takes every instant. */
const instant = z.iso.datetime({ offset: true, error: 'an ISO 8601 date-time with offset' });

export const absenceInput = z
  .object({
    /** Optional: without one, `<personId>-<from as YYYYMMDDHHmm UTC>`, so a repeat is a no-op. */
    id: orgId.optional(),
    personId: orgId,
    from: instant,
    to: instant,
    reason: z.enum(ABSENCE_REASONS, {
      error: () => `a reason: ${ABSENCE_REASONS.join(', ')}`,
    }),
    standInId: orgId.optional(),
  })
  .strict()
  .superRefine((absence, ctx) => {
    if (Date.parse(absence.to) <= Date.parse(absence.from)) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: '"to" must be after "from"' });
    }
    if (absence.standInId !== undefined && absence.standInId === absence.personId) {
      ctx.addIssue({
        code: 'custom',
        path: ['standInId'],
        message: 'a person cannot stand in for themselves',
      });
    }
  });
export type AbsenceInput = z.infer<typeof absenceInput>;

/** At most this many absences per import (chosen: a county's staff for a year, with room). */
export const MAX_ABSENCES = 20_000;

export const absenceImport = z
  .object({ absences: z.array(absenceInput).min(1).max(MAX_ABSENCES) })
  .strict();

/** A post's B-holder: the post (unit, role) and who covers it. */
export const backupInput = postInput;
export type BackupInput = z.infer<typeof backupInput>;

const time = z.string().refine((t) => minuteOfDay(t) !== null, {
  error: (issue) => `"${String(issue.input)}" is not a time of day HH:MM (00:00–23:59)`,
});

export const shiftInput = z
  .object({
    on: z
      .array(
        z.string().refine(isShiftDay, {
          error: (issue) =>
            `"${String(issue.input)}" is not a day: use ${WEEKDAYS.join(', ')}, workdays, restdays, holidays or a date YYYY-MM-DD`,
        }),
      )
      .min(1)
      .max(400),
    start: time,
    end: time,
    people: z.array(orgId).max(200).default([]),
    roles: z.array(postInput.shape.role).max(20).default([]),
  })
  .strict()
  .refine((s) => s.people.length + s.roles.length > 0, {
    error: 'a shift rosters people or roles, or both',
  });

/**
 * A unit's whole rota. At most 200 shifts (chosen: a year of dated holiday shifts and a weekly
 * pattern fit), 200 people per shift and 20 roles (chosen).
 */
export const rotaInput = z.object({ shifts: z.array(shiftInput).max(200) }).strict();
export type RotaInput = z.infer<typeof rotaInput>;

/**
 * A unit's working hours: 1 to 6 windows (chosen: office hours split by lunch, an evening
 * service, with room), each `HH:MM`–`HH:MM` within one day; `everyDay` for a station open on
 * weekends and holidays too.
 */
export const workingHoursInput = z
  .object({
    windows: z
      .array(z.object({ start: time, end: time }).strict())
      .min(1)
      .max(6),
    everyDay: z.boolean().default(false),
  })
  .strict();
export type WorkingHoursInput = z.infer<typeof workingHoursInput>;

/** A CSV row of absences: the same fields, `standInId` empty for none. */
const absenceRow = z
  .object({
    id: orgId.optional(),
    personId: orgId,
    from: instant,
    to: instant,
    reason: z.enum(ABSENCE_REASONS, { error: () => `a reason: ${ABSENCE_REASONS.join(', ')}` }),
    standInId: orgId.optional(),
  })
  .strict();

/** Absences from a CSV; problems name the spreadsheet cell (row 7, column to). */
export function absencesFromCsv(text: string): { absences: AbsenceInput[]; rows: number[] } {
  const rows = readCsvRows(text, absenceRow, { maxRows: MAX_ABSENCES });
  return { absences: rows.map((r) => r.value), rows: rows.map((r) => r.row) };
}

/** B-holders from a CSV: columns unitId, role, personId. */
export function backupsFromCsv(text: string): { backups: BackupInput[]; rows: number[] } {
  const rows = readCsvRows(text, backupInput, { maxRows: MAX_ABSENCES });
  return { backups: rows.map((r) => r.value), rows: rows.map((r) => r.row) };
}
