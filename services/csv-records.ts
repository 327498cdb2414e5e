import type { z } from 'zod';
import { CsvError, parseCsv } from '../common/csv';
import type { ErrorDetail } from './errors';
import { AppError } from './errors';

/**
 * A CSV request body read into records, one per row, each checked with the same zod schema the
 * JSON body uses for one item. The header row names the columns (any order; the schema's keys,
 * optional ones may be left out); cells are trimmed and an empty cell is an absent value. Every
 * problem names its spreadsheet cell, `row 7, column type`, and any problem rejects the whole
 * body, so the caller writes nothing.
 */
export interface CsvRow<T> {
  /** The row as a spreadsheet numbers it (the header is row 1). */
  row: number;
  value: T;
}

/** Where a problem is, as a spreadsheet user looks for it. */
export function csvCell(row: number, column?: string): string {
  return column === undefined ? `row ${row}` : `row ${row}, column ${column}`;
}

const MAX_DETAILS = 100;

export function readCsvRows<S extends z.ZodObject>(
  text: string,
  schema: S,
  options: { maxRows: number },
): Array<CsvRow<z.output<S>>> {
  let records;
  try {
    records = parseCsv(text);
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    throw invalidCsv([{ path: csvCell(err.row), message: err.message }]);
  }
  const [header, ...data] = records;
  if (!header) throw invalidCsv([{ path: csvCell(1), message: 'the header row is missing' }]);

  const columns = header.fields.map((name) => name.trim());
  const known = Object.keys(schema.shape);
  const problems: ErrorDetail[] = [];
  columns.forEach((name, i) => {
    if (!known.includes(name)) {
      problems.push({
        path: csvCell(header.row),
        message: `unknown column "${name}" (the columns are ${known.join(', ')})`,
      });
    } else if (columns.indexOf(name) !== i) {
      problems.push({ path: csvCell(header.row), message: `column "${name}" appears twice` });
    }
  });
  for (const name of known) {
    const optional = (schema.shape[name] as z.ZodType).safeParse(undefined).success;
    if (!optional && !columns.includes(name)) {
      problems.push({ path: csvCell(header.row), message: `missing column "${name}"` });
    }
  }
  if (problems.length > 0) throw invalidCsv(problems);
  if (data.length > options.maxRows) {
    throw invalidCsv([
      { path: 'body', message: `at most ${options.maxRows} rows per import, found ${data.length}` },
    ]);
  }

  const rows: Array<CsvRow<z.output<S>>> = [];
  for (const record of data) {
    if (record.fields.length !== columns.length) {
      problems.push({
        path: csvCell(record.row),
        message: `expected ${columns.length} fields as in the header, found ${record.fields.length}`,
      });
      continue;
    }
    const item: Record<string, string> = {};
    record.fields.forEach((cell, i) => {
      const value = cell.trim();
      if (value !== '') item[columns[i]!] = value;
    });
    const parsed = schema.safeParse(item);
    if (parsed.success) {
      rows.push({ row: record.row, value: parsed.data });
      continue;
    }
    for (const issue of parsed.error.issues) {
      const column = typeof issue.path[0] === 'string' ? issue.path[0] : undefined;
      problems.push({
        path: csvCell(record.row, column),
        // A rule across columns (custom: one of two cells) says itself what is missing.
        message:
          column !== undefined && !(column in item) && issue.code !== 'custom'
            ? 'a value is required'
            : issue.message,
      });
    }
  }
  if (problems.length > 0) throw invalidCsv(problems);
  return rows;
}

function invalidCsv(problems: ErrorDetail[]): AppError {
  const first = problems[0]!;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  const details =
    problems.length > MAX_DETAILS
      ? [
          ...problems.slice(0, MAX_DETAILS),
          { path: 'body', message: `${problems.length - MAX_DETAILS} more problems not listed` },
        ]
      : problems;
  return new AppError(
    'invalid_request',
    `The CSV is not valid, nothing was imported: ${first.path}: ${first.message}${more}`,
    details,
  );
}
