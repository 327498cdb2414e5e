/**
 * CSV as RFC 4180 describes it, and as spreadsheets (Excel, WPS) export it: fields separated by
 * commas, records by CRLF (LF and a lone CR are accepted too), a field in double quotes may hold
 * commas, line breaks and quotes written twice (`""`). A leading UTF-8 byte order mark is
 * dropped. Pure: no I/O, no dependencies.
 */

export interface CsvRecord {
  /** 1-based, as a spreadsheet numbers rows: the header is row 1; blank lines count too. */
  row: number;
  fields: string[];
}

export class CsvError extends Error {
  constructor(
    readonly row: number,
    message: string,
  ) {
    super(message);
    this.name = 'CsvError';
  }
}

/**
 * The records of a CSV text, blank lines left out (their row numbers are kept, so a message
 * about row 7 points at what a spreadsheet shows as row 7). Throws {@link CsvError} naming the
 * row of an unclosed quote or of a quote in the middle of a field.
 */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const input = text.startsWith('\uFEFF') ? text.slice(1) : text;
  let fields: string[] = [];
  let field = '';
  let quoted = false; // the current field started with a quote
  let row = 1;
  let i = 0;

  const endField = () => {
    fields.push(field);
    field = '';
    quoted = false;
  };
  const endRecord = () => {
    endField();
    // A blank line is one empty, unquoted field: nothing to import, but it keeps its row number.
    if (fields.length > 1 || fields[0] !== '') records.push({ row, fields });
    fields = [];
    row++;
  };

  while (i < input.length) {
    const c = input[i]!;
    if (quoted) {
      const close = input.indexOf('"', i);
      if (close < 0) throw new CsvError(row, 'a quoted field is not closed');
      field += input.slice(i, close);
      if (input[close + 1] === '"') {
        field += '"';
        i = close + 2;
        continue;
      }
      i = close + 1;
      const next = input[i];
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
        throw new CsvError(
          row,
          'a closing quote must be followed by a comma or the end of the line',
        );
      }
      // The field stays open (quoted = false from here on) until its comma or line break.
      quoted = false;
      continue;
    }
    if (c === ',') {
      endField();
      i++;
    } else if (c === '\r' || c === '\n') {
      endRecord();
      i += c === '\r' && input[i + 1] === '\n' ? 2 : 1;
    } else if (c === '"') {
      if (field !== '') {
        throw new CsvError(
          row,
          'a quote inside an unquoted field: quote the whole field and double the quote',
        );
      }
      quoted = true;
      i++;
    } else {
      field += c;
      i++;
    }
  }
  // The text may end inside quotes right after a doubled quote (`"ab""`): still not closed.
  if (quoted) throw new CsvError(row, 'a quoted field is not closed');
  // The last line needs no line break; an empty text has no records.
  if (field !== '' || fields.length > 0) endRecord();
  return records;
}

// ---------------------------------------------------------------------------------------------
// Writing: exports (ledgers, evaluation results)

/** A cell as exports write it: text someone may have typed, an engine figure, or nothing. */
export type Cell = string | number | null;

/** What a spreadsheet reads as the start of a formula (OWASP "CSV injection"). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * Text made safe to open in a spreadsheet: text a spreadsheet would run as a formula (starting
 * with `=`, `+`, `-`, `@`, a tab or a CR: a unit or person name, a category anyone with org or
 * definition rights can type) gets a leading `'`, as OWASP recommends, so Excel, WPS and
 * LibreOffice show it as text. Used for CSV fields and XLSX text cells alike, so a cell copied out
 * of either file and pasted anywhere stays inert.
 */
export function safeText(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/**
 * One CSV field, quoted as RFC 4180 says when it holds a comma, a quote or a line break; text
 * passes through {@link safeText}. Numbers are the engine's own figures, never text someone typed,
 * and stay numbers (a negative one keeps its `-`).
 */
export function csvField(value: Cell): string {
  if (value === null) return '';
  const text = typeof value === 'number' ? String(value) : safeText(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV record, CRLF-terminated. */
export function csvLine(row: readonly Cell[]): string {
  return row.map(csvField).join(',') + '\r\n';
}

/** The UTF-8 byte order mark a CSV export starts with, so Excel reads Chinese correctly. */
export const CSV_BOM = '\uFEFF';

/**
 * A CSV document: UTF-8 byte order mark, records separated by CRLF, the last one ended too. For
 * small documents; ledgers stream their records with {@link csvLine}.
 */
export function toCsv(rows: ReadonlyArray<readonly Cell[]>): string {
  return CSV_BOM + rows.map(csvLine).join('');
}
