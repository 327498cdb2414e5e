import fc from 'fast-check';
import type { ChartData } from '../../console/charts';
import { barChart, chartTable, escapeXml, lineChart, niceScale } from '../../console/charts';
import { fitText, textWidth } from '../../console/text-width';
import { monthsBetween, percent } from '../../console/report-format';

function data(overrides: Partial<ChartData> = {}): ChartData {
  return {
    title: '月度受理',
    categoryLabel: '月份',
    categories: ['2026-01', '2026-02', '2026-03'],
    series: [
      { name: '受理', values: [4, 10, 6] },
      { name: '办结', values: [3, 8, 0] },
    ],
    ...overrides,
  };
}

/** Every value of an attribute of the elements with this tag, in document order. */
function attrs(svg: string, tag: string, attr: string): number[] {
  return [...svg.matchAll(new RegExp(`<${tag}\\b[^>]*\\s${attr}="([^"]+)"`, 'g'))].map((m) =>
    Number(m[1]),
  );
}

describe('niceScale', () => {
  it('when counts are scaled, then the top is a round number at or above the largest and ticks are whole', () => {
    expect(niceScale(7, { integer: true })).toEqual({ max: 8, step: 2, ticks: [0, 2, 4, 6, 8] });
    expect(niceScale(100, { integer: true }).ticks).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceScale(3, { integer: true }).ticks).toEqual([0, 1, 2, 3]);
  });

  it('when there is nothing above zero, then the axis still runs from 0 to 1', () => {
    expect(niceScale(0, { integer: true })).toEqual({ max: 1, step: 1, ticks: [0, 1] });
    expect(niceScale(Number.NaN).max).toBe(1);
  });

  it('when shares are scaled, then steps may be fractions of a power of ten', () => {
    expect(niceScale(0.37)).toEqual({ max: 0.4, step: 0.1, ticks: [0, 0.1, 0.2, 0.3, 0.4] });
  });

  it('for any largest value, then the top covers it with at most about five steps', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.001, max: 1e9, noNaN: true }),
        fc.boolean(),
        (max, integer) => {
          const scale = niceScale(max, { integer });
          expect(scale.max).toBeGreaterThanOrEqual(max - 1e-9);
          expect(scale.ticks[0]).toBe(0);
          expect(scale.ticks.at(-1)).toBe(scale.max);
          expect(scale.ticks.length).toBeLessThanOrEqual(11);
          if (integer) expect(scale.ticks.every(Number.isInteger)).toBe(true);
        },
      ),
    );
  });
});

describe('lineChart', () => {
  it('when drawn, then it is an accessible image with a title and a dot per value placed on the scale', () => {
    // Act
    const chart = lineChart(data(), { integer: true, height: 280 });

    // Assert
    expect(chart.empty).toBe(false);
    expect(chart.svg).toMatch(/^<svg [^>]*role="img"[^>]*aria-label="月度受理"/);
    expect(chart.svg).toContain('<title>月度受理</title>');
    expect(chart.svg.match(/<circle /g)).toHaveLength(6);
    const ys = attrs(chart.svg, 'circle', 'cy');
    // Scale 0–10: the largest value sits at the top of the plot, 0 on the baseline (280 − 28).
    expect(Math.min(...ys)).toBe(ys[1]);
    expect(ys[5]).toBe(252);
    const xs = attrs(chart.svg, 'circle', 'cx');
    expect(xs[0]).toBeLessThan(xs[1]!);
    expect(xs[1]).toBeLessThan(xs[2]!);
    // A legend names both series.
    expect(chart.svg).toContain('>受理</text>');
    expect(chart.svg).toContain('>办结</text>');
  });

  it('when a value is missing, then the line breaks there instead of dropping to zero', () => {
    // Act
    const chart = lineChart(
      data({
        categories: ['a', 'b', 'c', 'd', 'e'],
        series: [{ name: 's', values: [1, 2, null, 3, 4] }],
      }),
    );

    // Assert
    const path = /<path d="([^"]+)"/.exec(chart.svg)![1]!;
    expect(path.match(/M/g)).toHaveLength(2);
    expect(path.match(/L/g)).toHaveLength(2);
    expect(chart.svg.match(/<circle /g)).toHaveLength(4);
    expect(chart.table.rows[2]!.cells).toEqual(['—']);
  });

  it('when there are no categories, no series or only missing values, then it says so and draws no axes', () => {
    for (const empty of [
      data({ categories: [], series: [{ name: 's', values: [] }] }),
      data({ series: [] }),
      data({ series: [{ name: 's', values: [null, null, null] }] }),
    ]) {
      // Act
      const chart = lineChart(empty, { noData: '本期没有数据' });

      // Assert
      expect(chart.empty).toBe(true);
      expect(chart.svg).toContain('本期没有数据');
      expect(chart.svg).toContain('role="img"');
      expect(chart.svg).not.toContain('<line');
    }
  });

  it('when labels and names hold markup, then every one is escaped in the SVG', () => {
    // Arrange
    const hostile = '<script>alert("x")</script>&\'';

    // Act
    const chart = lineChart(
      data({
        title: hostile,
        description: hostile,
        categories: [hostile, 'b'],
        series: [
          { name: hostile, values: [1, 2] },
          { name: 'ok', values: [2, 1] },
        ],
      }),
    );

    // Assert
    expect(chart.svg).not.toContain('<script');
    expect(chart.svg).not.toContain('"x"');
    expect(chart.svg).toContain(escapeXml(hostile));
    expect(chart.svg).toContain(`aria-label="${escapeXml(hostile)}"`);
  });

  it("when any chart is drawn, then it uses no inline style (the console's CSP forbids them)", () => {
    const line = lineChart(data());
    const bars = barChart(data(), { orientation: 'horizontal' });
    const columns = barChart(data());
    for (const svg of [line.svg, bars.svg, columns.svg]) expect(svg).not.toMatch(/style=/);
  });
});

describe('barChart', () => {
  it('when drawn horizontally on a fixed 0–1 axis, then bar lengths are proportional and values are labelled', () => {
    // Act
    const chart = barChart(
      {
        title: '满意度',
        categoryLabel: '单位',
        categories: ['甲社区', '乙社区', '丙社区'],
        series: [{ name: '满意度', values: [0.5, 1, null] }],
      },
      { orientation: 'horizontal', max: 1, format: (v) => percent(v) },
    );

    // Assert
    const widths = attrs(chart.svg, 'rect', 'width');
    expect(widths).toHaveLength(2);
    expect(widths[1]).toBeCloseTo(widths[0]! * 2, 0);
    expect(chart.svg).toContain('>50%</text>');
    expect(chart.svg).toContain('>100%</text>');
    // The missing one is marked, not drawn as 0.
    expect(chart.svg).toContain('class="chart-missing">—</text>');
    expect(chart.table.rows.map((r) => [r.label, ...r.cells])).toEqual([
      ['甲社区', '50%'],
      ['乙社区', '100%'],
      ['丙社区', '—'],
    ]);
  });

  it('when there are more rows, then a horizontal chart grows taller', () => {
    // Arrange
    const rows = (n: number) =>
      data({
        categories: Array.from({ length: n }, (_, i) => `单位${i}`),
        series: [{ name: 's', values: Array.from({ length: n }, (_, i) => i) }],
      });

    // Act
    const small = barChart(rows(2), { orientation: 'horizontal' });
    const large = barChart(rows(12), { orientation: 'horizontal' });

    // Assert
    const height = (svg: string) => Number(/height="(\d+)"/.exec(svg)![1]);
    expect(height(large.svg)).toBeGreaterThan(height(small.svg));
  });

  it('when drawn as columns, then heights follow the values and a zero draws no height', () => {
    // Act
    const chart = barChart(data(), { integer: true, height: 280 });

    // Assert
    const heights = attrs(chart.svg, 'rect', 'height');
    // Legend keys first (12 high), then the bars: 受理 4, 办结 3, 受理 10, 办结 8, 受理 6, 办结 0.
    const bars = heights.slice(2);
    expect(bars).toHaveLength(6);
    expect(bars[2]! / bars[0]!).toBeCloseTo(10 / 4, 1);
    expect(bars[5]).toBe(0);
  });

  it('when a unit name is long, then the label is cut with an ellipsis and the full name stays in a title', () => {
    // Arrange
    const long = '城关街道东关社区第一网格幸福家园小区物业服务中心';

    // Act
    const chart = barChart(
      data({ categories: [long, '短'], series: [{ name: 's', values: [1, 2] }] }),
      { orientation: 'horizontal', width: 400 },
    );

    // Assert
    expect(chart.svg).toContain(`<title>${long}</title>`);
    expect(chart.svg).toMatch(/>城关[^<]*…<\/text>/);
  });
});

describe('chartTable', () => {
  it('when built, then it has a column per series and formatted cells per category', () => {
    expect(chartTable(data(), { format: (v) => `${v} 件` })).toEqual({
      caption: '月度受理',
      columns: ['月份', '受理', '办结'],
      rows: [
        { label: '2026-01', cells: ['4 件', '3 件'] },
        { label: '2026-02', cells: ['10 件', '8 件'] },
        { label: '2026-03', cells: ['6 件', '0 件'] },
      ],
    });
  });
});

describe('text helpers', () => {
  it('when text is measured, then CJK characters count about twice as wide as Latin ones', () => {
    expect(textWidth('社区', 12)).toBeCloseTo(2 * textWidth('ab', 12), -1);
    expect(fitText('short', 200, 12)).toBe('short');
    expect(textWidth(fitText('一二三四五六七八九十', 60, 12), 12)).toBeLessThanOrEqual(60);
  });

  it('when shares are shown, then they read as percentages with at most one decimal', () => {
    expect([percent(0.6667), percent(1), percent(0), percent(null)]).toEqual([
      '66.7%',
      '100%',
      '0%',
      '—',
    ]);
  });

  it('when a period is split into months, then every Beijing month from its start to its end is listed', () => {
    // 2026-H1 in Beijing time: from 2025-12-31T16:00Z to 2026-06-30T16:00Z (exclusive).
    expect(monthsBetween('2025-12-31T16:00:00.000Z', '2026-06-30T16:00:00.000Z')).toEqual([
      '2026-01',
      '2026-02',
      '2026-03',
      '2026-04',
      '2026-05',
      '2026-06',
    ]);
    expect(monthsBetween('2026-06-30T16:00:00.000Z', '2026-06-30T16:00:00.000Z')).toEqual([]);
  });
});
