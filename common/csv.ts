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
