import fc from 'fast-check';
import { z } from 'zod';
import { readCsvRows } from '../../services/csv-records';
import { AppError } from '../../services/errors';
import { CsvError, parseCsv } from '../../common/csv';

function fieldsOf(text: string): string[][] {
  return parseCsv(text).map((r) => r.fields);
}

/** How a spreadsheet writes a field: quoted when it holds a comma, a quote or a line break. */
function writeField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

describe('parseCsv', () => {
  it('when fields are quoted, then commas, doubled quotes and line breaks inside them are kept', () => {
    // Arrange
    const text = 'id,name\n1,"Wang, Fang"\n2,"say ""hi"""\n3,"line one\nline two"\n';

    // Act
    const records = parseCsv(text);

    // Assert
    expect(records.map((r) => r.fields)).toEqual([
      ['id', 'name'],
      ['1', 'Wang, Fang'],
      ['2', 'say "hi"'],
      ['3', 'line one\nline two'],
    ]);
    expect(records.map((r) => r.row)).toEqual([1, 2, 3, 4]);
  });

  it('when the text starts with a UTF-8 BOM, then the first column name does not include it', () => {
    expect(fieldsOf('\uFEFFid,名称\r\nA1,东关社区\r\n')).toEqual([
      ['id', '名称'],
      ['A1', '东关社区'],
    ]);
  });

  it('when lines end with CRLF, LF or CR, then each is one record break', () => {
    expect(fieldsOf('a,b\r\n1,2\n3,4\r5,6')).toEqual([
      ['a', 'b'],
      ['1', '2'],
      ['3', '4'],
      ['5', '6'],
    ]);
  });

  it('when a quoted field spans lines, then later rows keep their spreadsheet number', () => {
    const records = parseCsv('h\n"a\r\nb"\n\nc\n');
    expect(records).toEqual([
      { row: 1, fields: ['h'] },
      { row: 2, fields: ['a\r\nb'] },
      { row: 4, fields: ['c'] },
    ]);
  });

  it('when fields are empty, then they are empty strings; a blank line is skipped', () => {
    expect(fieldsOf('a,b,c\n,,\n\n"",x,\n')).toEqual([
      ['a', 'b', 'c'],
      ['', '', ''],
      ['', 'x', ''],
    ]);
    expect(parseCsv('')).toEqual([]);
    expect(parseCsv('\uFEFF')).toEqual([]);
  });

  it.each([
    ['a quote is never closed', 'a,b\n1,"open\n2,3\n', 2, 'a quoted field is not closed'],
    ['the text ends after a doubled quote', 'a,b\n1,"x""', 2, 'a quoted field is not closed'],
    ['text follows a closing quote', 'a,b\n1,2\n3,"x"y\n', 3, 'a closing quote must be followed'],
    [
      'a quote sits inside an unquoted field',
      'a,b\n1,ab"c\n',
      2,
      'a quote inside an unquoted field',
    ],
  ])('when %s, then the error names the row', (_what, text, row, message) => {
    // Act
    let error: unknown;
    try {
      parseCsv(text);
    } catch (err) {
      error = err;
    }

    // Assert
    expect(error).toBeInstanceOf(CsvError);
    expect((error as CsvError).row).toBe(row);
    expect((error as CsvError).message).toContain(message);
  });

  it('for any table of strings, writing it as a spreadsheet does and parsing it gives it back', () => {
    const cell = fc.string({ unit: fc.constantFrom('a', '东', ',', '"', '\n', '\r\n', ' ', 'x') });
    const table = fc.integer({ min: 2, max: 4 }).chain((width) =>
      fc.array(fc.array(cell, { minLength: width, maxLength: width }), {
        minLength: 1,
        maxLength: 6,
      }),
    );
    fc.assert(
      fc.property(table, fc.constantFrom('\n', '\r\n'), (rows, eol) => {
        const text = rows.map((r) => r.map(writeField).join(',')).join(eol) + eol;
        expect(fieldsOf(text)).toEqual(rows);
      }),
    );
  });
});

describe('readCsvRows', () => {
  const schema = z
    .object({
      id: z.string().regex(/^[a-z0-9-]+$/, 'an id'),
      type: z.enum(['street', 'community'], {
        error: (issue) =>
          typeof issue.input === 'string' ? `"${issue.input}" is not a unit type` : 'required',
      }),
      email: z.email().optional(),
    })
    .strict();

  function problemsOf(text: string): Array<{ path: string; message: string }> {
    try {
      readCsvRows(text, schema, { maxRows: 10 });
    } catch (err) {
      if (err instanceof AppError) return err.details;
      throw err;
    }
    throw new Error('expected the CSV to be refused');
  }

  it('when every row is good, then each value comes with its row; empty cells are absent', () => {
    // Act
    const rows = readCsvRows(
      'type,id,email\nstreet, s-1 ,\ncommunity,c-1,a@example.test\n',
      schema,
      {
        maxRows: 10,
      },
    );

    // Assert
    expect(rows).toEqual([
      { row: 2, value: { id: 's-1', type: 'street' } },
      { row: 3, value: { id: 'c-1', type: 'community', email: 'a@example.test' } },
    ]);
  });

  it('when a cell is bad, then the problem names its row and column', () => {
    // Act
    let error: AppError | undefined;
    try {
      readCsvRows('id,type\ns-1,street\nc-1,community\n"c 2",streeet\n', schema, { maxRows: 10 });
    } catch (err) {
      error = err as AppError;
    }

    // Assert
    expect(error?.kind).toBe('invalid_request');
    expect(error?.details).toEqual([
      { path: 'row 4, column id', message: 'an id' },
      { path: 'row 4, column type', message: '"streeet" is not a unit type' },
    ]);
    expect(error?.message).toContain('row 4, column id: an id (and 1 more)');
  });

  it('when the header lacks a required column or has an unknown or repeated one, then row 1 is named', () => {
    expect(problemsOf('id,kind,id\nx,street,x\n')).toEqual([
      { path: 'row 1', message: 'unknown column "kind" (the columns are id, type, email)' },
      { path: 'row 1', message: 'column "id" appears twice' },
      { path: 'row 1', message: 'missing column "type"' },
    ]);
  });

  it('when a row has too many or too few fields, or a required cell is empty, then that row is named', () => {
    expect(problemsOf('id,type\ns-1,street,extra\ns-2\n,street\n')).toEqual([
      { path: 'row 2', message: 'expected 2 fields as in the header, found 3' },
      { path: 'row 3', message: 'expected 2 fields as in the header, found 1' },
      { path: 'row 4, column id', message: 'a value is required' },
    ]);
  });

  it('when the text is empty, not closed or too long, then it is refused as a whole', () => {
    expect(problemsOf('')).toEqual([{ path: 'row 1', message: 'the header row is missing' }]);
    expect(problemsOf('id,type\n"s-1,street\n')).toEqual([
      { path: 'row 2', message: 'a quoted field is not closed' },
    ]);
    expect(problemsOf(`id,type\n${'s,street\n'.repeat(11)}`)).toEqual([
      { path: 'body', message: 'at most 10 rows per import, found 11' },
    ]);
  });
});
