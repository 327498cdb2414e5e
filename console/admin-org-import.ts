import type { ErrorDetail } from '../services/errors';
import { csvCell } from '../services/csv-records';
import type { ImportKind } from '../services/org-input';
import { IMPORT_KINDS } from '../services/org-input';
import type { OrgImport } from '../services/org-import';
import type { CsvRecord } from '../common/csv';
import { CsvError, parseCsv } from '../common/csv';

/**
 * The org import as the console takes it: one CSV of units, people, posts or pairings, read with the same
 * row schemas and cell-naming problems as `POST /api/v1/org/import/:kind`, for the same
 * OrgService.importOrg call. Problems are split back into row and column for the page.
 */

export { IMPORT_KINDS, importFromCsv } from '../services/org-input';
export type { ImportKind } from '../services/org-input';

export function isImportKind(value: string): value is ImportKind {
  return (IMPORT_KINDS as readonly string[]).includes(value);
}

/** The columns of each kind, required ones first, as the API documents them. */
export const IMPORT_COLUMNS: Readonly<Record<ImportKind, readonly string[]>> = {
  units: ['id', 'name', 'type', 'parentId', 'lat', 'lng'],
  people: ['id', 'name', 'email', 'phone', 'userId'],
  posts: ['unitId', 'role', 'personId'],
  pairings: ['unitId', 'kind', 'personId', 'partnerUnitId', 'validFrom', 'validUntil'],
};

/** An example file per kind, shown beside the form (the API's own example for units). */
export const IMPORT_EXAMPLES: Readonly<Record<ImportKind, string>> = {
  units:
    'id,name,type,parentId,lat,lng\ncounty,城固县,county,,,\nstreet-a,博望街道,street,county,33.153,107.329',
  people: 'id,name,email,phone,userId\np-1,张网格,grid1@example.org,13800000000,\np-2,李书记,,,',
  posts: 'unitId,role,personId\nstreet-a,secretary,p-2',
  pairings:
    'unitId,kind,personId,partnerUnitId,validFrom,validUntil\ncompound-1,cadre,p-1,,2026-01-01,2026-12-31\ncompound-1,unit,,cobuilding-1,,',
};

/** The cell naming of the API, for problems the service finds in an item. */
export function cellPathOf(rows: readonly number[]) {
  return (_kind: keyof OrgImport, index: number, field: string) => csvCell(rows[index]!, field);
}

export interface CellProblem {
  row: number | null;
  column: string | null;
  message: string;
  /** The row as read, each cell under its header, the named one marked. */
  cells: Array<{ header: string; value: string; bad: boolean }>;
}

/** How many problems show their row's cells; the rest are listed with row and column only. */
const SHOWN_ROWS = 20;

/** Problems as a table can show them: `row 7, column type` split, with the row's cells. */
export function cellProblems(details: readonly ErrorDetail[], text: string): CellProblem[] {
  let records: CsvRecord[] = [];
  try {
    records = parseCsv(text);
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
  }
  const header = records[0]?.fields.map((f) => f.trim()) ?? [];
  const byRow = new Map(records.map((r) => [r.row, r]));
  return details.map((detail, i) => {
    const match = /^row (\d+)(?:, column (.+))?$/.exec(detail.path);
    const row = match ? Number(match[1]) : null;
    const column = match?.[2] ?? null;
    const record = row !== null && row > 1 && i < SHOWN_ROWS ? byRow.get(row) : undefined;
    return {
      row,
      column,
      message: detail.message,
      cells: record
        ? record.fields.map((value, c) => ({
            header: header[c] ?? '',
            value,
            bad: column !== null && header[c] === column,
          }))
        : [],
    };
  });
}
