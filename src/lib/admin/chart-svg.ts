/**
 * Geometry of the admin overview's small charts, drawn by the server as SVG (no script, so
 * nothing for the CSP to forbid): column charts (stacked or side by side), line charts and
 * horizontal bars. Pure functions of the numbers; the Astro components only draw what these
 * return. Sizes are in the SVG's own units (the `viewBox`), which scales with the card.
 */

export const CHART_WIDTH = 420;
export const CHART_HEIGHT = 180;
/** Room for the value axis on the left and the day labels at the bottom. */
const PAD = { left: 64, right: 8, top: 8, bottom: 22 } as const;

export interface Series {
  name: string;
  /** One value per category; null draws nothing (no data that day). */
  values: Array<number | null>;
  /** Tailwind fill class of the series' bars, dots and legend (`fill-emerald-600`…). */
  className: string;
  /** Tailwind stroke class of its line in a line chart (`stroke-brand-600`…). */
  lineClassName?: string;
}

export interface Tick {
  value: number;
  y: number;
}

export interface Plot {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** 0, 1, 2, 5, 10, 20, 50 … × 10ⁿ: the smallest round number at least `max` (1 for an empty chart). */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

function ticksFor(max: number, plot: Plot): Tick[] {
  return [0, 0.5, 1].map((share) => ({ value: max * share, y: plot.y + plot.height * (1 - share) }));
}

/** Every `every`-th category keeps its label, so 30 days stay legible on a phone. */
function categoryLabels(categories: string[], xOf: (i: number) => number, every: number): Array<{ x: number; text: string }> {
  const step = Math.max(1, every);
  return categories.flatMap((text, i) => ((categories.length - 1 - i) % step === 0 ? [{ x: xOf(i), text }] : []));
}

const plotArea = (width: number, height: number): Plot => ({
  x: PAD.left,
  y: PAD.top,
  width: width - PAD.left - PAD.right,
  height: height - PAD.top - PAD.bottom,
});

export interface ColumnChart {
  width: number;
  height: number;
  plot: Plot;
  max: number;
  ticks: Tick[];
  bars: Array<{ x: number; y: number; width: number; height: number; series: number; index: number; value: number }>;
  labels: Array<{ x: number; text: string }>;
}

export function columnChart(options: {
  categories: string[];
  series: Series[];
  stacked: boolean;
  labelEvery?: number;
  width?: number;
  height?: number;
}): ColumnChart {
  const width = options.width ?? CHART_WIDTH;
  const height = options.height ?? CHART_HEIGHT;
  const plot = plotArea(width, height);
  const count = options.categories.length;
  const totals = options.categories.map((_, i) =>
    options.stacked
      ? options.series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0)
      : Math.max(0, ...options.series.map((s) => s.values[i] ?? 0)),
  );
  const max = niceMax(Math.max(0, ...totals));
  const slot = plot.width / Math.max(1, count);
  const gap = Math.min(4, slot * 0.2);
  const group = slot - gap;
  const scale = (value: number) => (value / max) * plot.height;
  const bars: ColumnChart['bars'] = [];
  for (let i = 0; i < count; i += 1) {
    let stackTop = plot.y + plot.height;
    options.series.forEach((s, si) => {
      const value = s.values[i];
      if (value === null || value === undefined || value <= 0) return;
      const h = scale(value);
      if (options.stacked) {
        stackTop -= h;
        bars.push({ x: plot.x + i * slot + gap / 2, y: stackTop, width: group, height: h, series: si, index: i, value });
      } else {
        const w = group / options.series.length;
        bars.push({ x: plot.x + i * slot + gap / 2 + si * w, y: plot.y + plot.height - h, width: w, height: h, series: si, index: i, value });
      }
    });
  }
  return {
    width,
    height,
    plot,
    max,
    ticks: ticksFor(max, plot),
    bars,
    labels: categoryLabels(options.categories, (i) => plot.x + i * slot + slot / 2, options.labelEvery ?? 1),
  };
}

export interface LineChart {
  width: number;
  height: number;
  plot: Plot;
  max: number;
  ticks: Tick[];
  /** Per series: `points` attributes of polylines (a day without data breaks the line) and the dots. */
  lines: Array<{ series: number; segments: string[]; dots: Array<{ x: number; y: number; value: number; index: number }> }>;
  labels: Array<{ x: number; text: string }>;
}

export function lineChart(options: { categories: string[]; series: Series[]; labelEvery?: number; width?: number; height?: number }): LineChart {
  const width = options.width ?? CHART_WIDTH;
  const height = options.height ?? CHART_HEIGHT;
  const plot = plotArea(width, height);
  const count = options.categories.length;
  const max = niceMax(Math.max(0, ...options.series.flatMap((s) => s.values.map((v) => v ?? 0))));
  const slot = plot.width / Math.max(1, count);
  const xOf = (i: number) => plot.x + i * slot + slot / 2;
  const yOf = (value: number) => plot.y + plot.height * (1 - value / max);
  const round = (n: number) => Math.round(n * 10) / 10;
  const lines = options.series.map((s, si) => {
    const segments: string[] = [];
    const dots: LineChart['lines'][number]['dots'] = [];
    let current: string[] = [];
    s.values.forEach((value, i) => {
      if (value === null || value === undefined) {
        if (current.length > 0) segments.push(current.join(' '));
        current = [];
        return;
      }
      const point = { x: round(xOf(i)), y: round(yOf(value)), value, index: i };
      dots.push(point);
      current.push(`${point.x},${point.y}`);
    });
    if (current.length > 0) segments.push(current.join(' '));
    return { series: si, segments, dots };
  });
  return { width, height, plot, max, ticks: ticksFor(max, plot), lines, labels: categoryLabels(options.categories, xOf, options.labelEvery ?? 1) };
}

export interface HorizontalBars {
  width: number;
  height: number;
  max: number;
  rows: Array<{ label: string; value: number; y: number; barX: number; barWidth: number; barHeight: number }>;
}

/** One row per item, biggest first as given: the label on the left, the bar and its value after it. */
export function horizontalBars(items: Array<{ label: string; value: number }>, options: { width?: number; rowHeight?: number; labelWidth?: number } = {}): HorizontalBars {
  const width = options.width ?? CHART_WIDTH;
  const rowHeight = options.rowHeight ?? 24;
  const labelWidth = options.labelWidth ?? 150;
  const room = width - labelWidth - 48;
  const max = Math.max(1, ...items.map((item) => item.value));
  return {
    width,
    height: Math.max(rowHeight, items.length * rowHeight),
    max,
    rows: items.map((item, i) => ({
      label: item.label,
      value: item.value,
      y: i * rowHeight,
      barX: labelWidth,
      barWidth: Math.max(item.value > 0 ? 2 : 0, (item.value / max) * room),
      barHeight: rowHeight - 8,
    })),
  };
}
