import { escapeXml } from './escape';
import { fitText, textWidth } from './text-width';

/**
 * Charts as server-side SVG: pure functions from figures to markup, no script and no library.
 * Every label is escaped here (the views insert the markup as is), colours are presentation
 * attributes (the console's CSP allows no inline `style`), and each chart carries a `<title>`,
 * `role="img"` and an `aria-label`, with the same numbers as a table for screen readers and
 * for anyone who wants the figures rather than the picture.
 */

export interface ChartSeries {
  name: string;
  /** One value per category; null where there is nothing to measure (drawn as a gap). */
  values: ReadonlyArray<number | null>;
}

export interface ChartData {
  /** What the chart shows: its `<title>`, `aria-label` and the table's caption. */
  title: string;
  /** A sentence saying what is drawn (the SVG's `<desc>`). */
  description?: string;
  /** The header of the table's first column (月份, 单位…). */
  categoryLabel: string;
  /** The x axis of a line or column chart, the rows of a horizontal bar chart. */
  categories: readonly string[];
  series: readonly ChartSeries[];
}

export interface ChartOptions {
  width?: number;
  /** Line and column charts; horizontal bars grow with their rows. */
  height?: number;
  /** Values as the axis, the labels and the table show them (default: as is). */
  format?: (value: number) => string;
  /** A fixed top of the value axis (1 for shares); otherwise a round number above the largest. */
  max?: number;
  /** The value axis counts whole things: ticks are whole numbers. */
  integer?: boolean;
  /** Text of a missing value (default "—"). */
  missing?: string;
  /** Drawn in place of the chart when there is nothing to draw. */
  noData?: string;
}

export interface ChartTable {
  caption: string;
  columns: string[];
  rows: Array<{ label: string; cells: string[] }>;
}

export interface Chart {
  svg: string;
  table: ChartTable;
  /** Nothing to draw: no categories, no series, or only missing values. */
  empty: boolean;
}

/** Colours that stay apart for the common colour-vision deficiencies and read on white. */
export const PALETTE = ['#0550ae', '#bc4c00', '#1a7f37', '#8250df', '#cf222e', '#57606a'];

const FONT_SIZE = 12;
const DEFAULT_WIDTH = 640;
const DEFAULT_HEIGHT = 280;

export { escapeXml } from './escape';

export interface Scale {
  max: number;
  step: number;
  ticks: number[];
}

/**
 * A value axis from 0 to a round number at or above `max`, with about `count` steps of 1, 2,
 * 2.5 or 5 times a power of ten (whole steps only when `integer`).
 */
export function niceScale(max: number, options: { count?: number; integer?: boolean } = {}): Scale {
  const count = options.count ?? 5;
  const top = Number.isFinite(max) && max > 0 ? max : 1;
  const raw = top / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / magnitude;
  let step =
    (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 && !options.integer ? 2.5 : norm <= 5 ? 5 : 10) *
    magnitude;
  if (options.integer) step = Math.max(1, Math.ceil(step));
  const steps = Math.max(1, Math.ceil(top / step - 1e-9));
  const ticks = Array.from({ length: steps + 1 }, (_, i) => roundTick(i * step));
  return { max: roundTick(steps * step), step, ticks };
}

/** A fixed axis (0 to `max`) in `count` equal steps: shares from 0 to 100 %. */
function fixedScale(max: number, count = 5): Scale {
  const step = max / count;
  return {
    max,
    step,
    ticks: Array.from({ length: count + 1 }, (_, i) => roundTick(i * step)),
  };
}

function roundTick(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}

/** Coordinates with at most one decimal: smaller markup, the same picture. */
function n(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function isEmpty(data: ChartData): boolean {
  return (
    data.categories.length === 0 ||
    data.series.length === 0 ||
    data.series.every((s) => s.values.every((v) => v === null || v === undefined))
  );
}

function largest(data: ChartData): number {
  let max = 0;
  for (const s of data.series) {
    for (const v of s.values) if (typeof v === 'number' && Number.isFinite(v) && v > max) max = v;
  }
  return max;
}

function scaleOf(data: ChartData, options: ChartOptions): Scale {
  return options.max !== undefined
    ? fixedScale(options.max)
    : niceScale(largest(data), { integer: options.integer ?? false });
}

function valueAt(series: ChartSeries, index: number): number | null {
  const v = series.values[index];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** The chart's numbers as a table: a row per category, a column per series. */
export function chartTable(data: ChartData, options: ChartOptions = {}): ChartTable {
  const format = options.format ?? String;
  const missing = options.missing ?? '—';
  return {
    caption: data.title,
    columns: [data.categoryLabel, ...data.series.map((s) => s.name)],
    rows: data.categories.map((label, i) => ({
      label,
      cells: data.series.map((s) => {
        const v = valueAt(s, i);
        return v === null ? missing : format(v);
      }),
    })),
  };
}

function open(data: ChartData, width: number, height: number): string {
  const label = escapeXml(data.title);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" ` +
    `width="${width}" height="${height}" role="img" aria-label="${label}">` +
    `<title>${label}</title>` +
    (data.description ? `<desc>${escapeXml(data.description)}</desc>` : '')
  );
}

function text(
  x: number,
  y: number,
  content: string,
  attrs: { anchor?: 'start' | 'middle' | 'end'; cls?: string; baseline?: string } = {},
): string {
  return (
    `<text x="${n(x)}" y="${n(y)}" font-size="${FONT_SIZE}"` +
    (attrs.anchor && attrs.anchor !== 'start' ? ` text-anchor="${attrs.anchor}"` : '') +
    (attrs.baseline ? ` dominant-baseline="${attrs.baseline}"` : '') +
    (attrs.cls ? ` class="${attrs.cls}"` : '') +
    `>${escapeXml(content)}</text>`
  );
}

function emptyChart(data: ChartData, options: ChartOptions): Chart {
  const width = options.width ?? DEFAULT_WIDTH;
  const height = 80;
  const svg =
    open(data, width, height) +
    text(width / 2, height / 2, options.noData ?? '—', {
      anchor: 'middle',
      baseline: 'middle',
      cls: 'chart-empty',
    }) +
    '</svg>';
  return { svg, table: chartTable(data, options), empty: true };
}

/** A row of coloured keys above the plot; wraps to further rows when the names are long. */
function legend(series: readonly ChartSeries[], left: number, width: number): [string, number] {
  if (series.length < 2) return ['', 0];
  let x = left;
  let y = 14;
  let out = '<g class="chart-legend">';
  series.forEach((s, i) => {
    const w = 18 + textWidth(s.name, FONT_SIZE) + 16;
    if (x + w > width && x > left) {
      x = left;
      y += 18;
    }
    out +=
      `<rect x="${n(x)}" y="${n(y - 9)}" width="12" height="12" rx="2" fill="${colour(i)}" class="series-${i}"/>` +
      text(x + 17, y + 1, s.name);
    x += w;
  });
  return [`${out}</g>`, y + 12];
}

function colour(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

interface Frame {
  left: number;
  top: number;
  right: number;
  bottom: number;
  width: number;
  height: number;
}

/** Horizontal grid lines and value labels of a vertical value axis, and the baseline. */
function valueAxisY(frame: Frame, scale: Scale, format: (v: number) => string): string {
  let out = '<g class="chart-axis">';
  for (const tick of scale.ticks) {
    const y = frame.bottom - (tick / scale.max) * (frame.bottom - frame.top);
    out +=
      `<line x1="${n(frame.left)}" y1="${n(y)}" x2="${n(frame.right)}" y2="${n(y)}" stroke="#d0d7de" stroke-width="1"/>` +
      text(frame.left - 6, y + 4, format(tick), { anchor: 'end' });
  }
  out += `<line x1="${n(frame.left)}" y1="${n(frame.bottom)}" x2="${n(frame.right)}" y2="${n(frame.bottom)}" stroke="#57606a" stroke-width="1"/>`;
  return `${out}</g>`;
}

/** Category labels under the x axis, thinned out when they would overlap. */
function categoryAxisX(frame: Frame, categories: readonly string[]): string {
  const band = (frame.right - frame.left) / categories.length;
  const widest = Math.max(...categories.map((c) => textWidth(c, FONT_SIZE)));
  const every = Math.max(1, Math.ceil((widest + 8) / band));
  let out = '<g class="chart-axis">';
  categories.forEach((label, i) => {
    if (i % every !== 0) return;
    const x = frame.left + band * (i + 0.5);
    out += text(x, frame.bottom + 18, fitText(label, band * every - 4, FONT_SIZE), {
      anchor: 'middle',
    });
  });
  return `${out}</g>`;
}

/** The plot of a chart over its categories (line or columns): size, scale, frame and legend. */
interface CategoryPlot {
  width: number;
  height: number;
  format: (v: number) => string;
  scale: Scale;
  frame: Frame;
  legendMarkup: string;
  /** The width each category takes along the x axis. */
  band: number;
}

function categoryPlot(data: ChartData, options: ChartOptions): CategoryPlot {
  const width = options.width ?? DEFAULT_WIDTH;
  const height = options.height ?? DEFAULT_HEIGHT;
  const format = options.format ?? String;
  const scale = scaleOf(data, options);
  const labelWidth = Math.max(...scale.ticks.map((t) => textWidth(format(t), FONT_SIZE)));
  const left = Math.ceil(labelWidth) + 12;
  const [legendMarkup, legendBottom] = legend(data.series, left, width - 8);
  const top = Math.max(12, legendBottom + 10);
  const frame = { left, top, right: width - 12, bottom: height - 28, width, height };
  const band = (frame.right - frame.left) / data.categories.length;
  return { width, height, format, scale, frame, legendMarkup, band };
}

/** A category chart's whole SVG around the marks drawn for its series. */
function categoryChart(
  plot: CategoryPlot,
  data: ChartData,
  options: ChartOptions,
  marks: string,
): Chart {
  const svg =
    open(data, plot.width, plot.height) +
    plot.legendMarkup +
    valueAxisY(plot.frame, plot.scale, plot.format) +
    categoryAxisX(plot.frame, data.categories) +
    marks +
    '</svg>';
  return { svg, table: chartTable(data, options), empty: false };
}

/**
 * A line per series over the categories (months, usually), with a dot and a tooltip per value;
 * a missing value breaks the line.
 */
export function lineChart(data: ChartData, options: ChartOptions = {}): Chart {
  if (isEmpty(data)) return emptyChart(data, options);
  const plot = categoryPlot(data, options);
  const { format, scale, frame, band } = plot;
  const xOf = (i: number) => frame.left + band * (i + 0.5);
  const yOf = (v: number) =>
    frame.bottom - (Math.min(v, scale.max) / scale.max) * (frame.bottom - frame.top);

  let body = '';
  data.series.forEach((s, si) => {
    let d = '';
    let pen = false;
    let dots = '';
    data.categories.forEach((category, i) => {
      const v = valueAt(s, i);
      if (v === null) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${n(xOf(i))} ${n(yOf(v))}`;
      pen = true;
      dots +=
        `<circle cx="${n(xOf(i))}" cy="${n(yOf(v))}" r="3.5" fill="${colour(si)}" class="series-${si}">` +
        `<title>${escapeXml(`${s.name} · ${category}: ${format(v)}`)}</title></circle>`;
    });
    body +=
      `<g class="chart-series">` +
      (d.includes('L')
        ? `<path d="${d}" fill="none" stroke="${colour(si)}" stroke-width="2" stroke-linejoin="round" class="series-${si}"/>`
        : '') +
      `${dots}</g>`;
  });
  return categoryChart(plot, data, options, body);
}

/**
 * Bars grouped per category: columns over the categories (`vertical`, for months), or rows with
 * their labels on the left and the value at the end of each bar (`horizontal`, for units with
 * long names). The height of a horizontal chart follows its rows.
 */
export function barChart(
  data: ChartData,
  options: ChartOptions & { orientation?: 'vertical' | 'horizontal' } = {},
): Chart {
  if (isEmpty(data)) return emptyChart(data, options);
  return options.orientation === 'horizontal'
    ? horizontalBars(data, options)
    : verticalBars(data, options);
}

function verticalBars(data: ChartData, options: ChartOptions): Chart {
  const plot = categoryPlot(data, options);
  const { format, scale, frame, band } = plot;
  const inner = (band * 0.8) / data.series.length;
  let body = '';
  data.categories.forEach((category, i) => {
    data.series.forEach((s, si) => {
      const v = valueAt(s, i);
      if (v === null) return;
      const h = (Math.min(v, scale.max) / scale.max) * (frame.bottom - frame.top);
      const x = frame.left + band * i + band * 0.1 + inner * si;
      body +=
        `<rect x="${n(x)}" y="${n(frame.bottom - h)}" width="${n(Math.max(1, inner - 1))}" height="${n(h)}" fill="${colour(si)}" class="series-${si}">` +
        `<title>${escapeXml(`${s.name} · ${category}: ${format(v)}`)}</title></rect>`;
    });
  });
  return categoryChart(plot, data, options, `<g class="chart-series">${body}</g>`);
}

function horizontalBars(data: ChartData, options: ChartOptions): Chart {
  const width = options.width ?? DEFAULT_WIDTH;
  const format = options.format ?? String;
  const missing = options.missing ?? '—';
  const scale = scaleOf(data, options);
  const barHeight = 14;
  const rowHeight = data.series.length * barHeight + 10;
  const labelSpace = Math.min(
    Math.round(width * 0.3),
    Math.ceil(Math.max(...data.categories.map((c) => textWidth(c, FONT_SIZE)))) + 8,
  );
  const left = labelSpace + 8;
  const valueSpace =
    Math.ceil(Math.max(...scale.ticks.map((t) => textWidth(format(t), FONT_SIZE)))) + 12;
  const [legendMarkup, legendBottom] = legend(data.series, left, width - 8);
  const top = Math.max(8, legendBottom + 8);
  const right = width - valueSpace;
  const bottom = top + rowHeight * data.categories.length;
  const height = bottom + 24;
  const xOf = (v: number) => left + (Math.min(v, scale.max) / scale.max) * (right - left);

  let axis = '<g class="chart-axis">';
  for (const tick of scale.ticks) {
    const x = xOf(tick);
    axis +=
      `<line x1="${n(x)}" y1="${n(top)}" x2="${n(x)}" y2="${n(bottom)}" stroke="#d0d7de" stroke-width="1"/>` +
      text(x, bottom + 16, format(tick), { anchor: 'middle' });
  }
  axis += `<line x1="${n(left)}" y1="${n(top)}" x2="${n(left)}" y2="${n(bottom)}" stroke="#57606a" stroke-width="1"/></g>`;

  let body = '';
  data.categories.forEach((category, i) => {
    const rowTop = top + rowHeight * i + 5;
    body +=
      `<g class="chart-row"><title>${escapeXml(category)}</title>` +
      text(
        labelSpace,
        rowTop + (rowHeight - 10) / 2 + 4,
        fitText(category, labelSpace, FONT_SIZE),
        {
          anchor: 'end',
        },
      );
    data.series.forEach((s, si) => {
      const v = valueAt(s, i);
      const y = rowTop + si * barHeight;
      if (v === null) {
        body += text(left + 4, y + barHeight - 3, missing, { cls: 'chart-missing' });
        return;
      }
      const w = xOf(v) - left;
      body +=
        `<rect x="${n(left)}" y="${n(y)}" width="${n(Math.max(w, v > 0 ? 1 : 0))}" height="${barHeight - 2}" fill="${colour(si)}" class="series-${si}">` +
        `<title>${escapeXml(`${s.name} · ${category}: ${format(v)}`)}</title></rect>` +
        text(left + w + 4, y + barHeight - 3, format(v));
    });
    body += '</g>';
  });

  const svg =
    open(data, width, height) +
    legendMarkup +
    axis +
    `<g class="chart-series">${body}</g>` +
    '</svg>';
  return { svg, table: chartTable(data, options), empty: false };
}
