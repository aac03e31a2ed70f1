import { describe, expect, it } from 'vitest';
import type { Db } from '../../src/lib/db/index.ts';
import { useTempDatabases } from '../helpers/db.ts';
import { CHART_DAYS, chartFacts, getAdminCharts, median, percentile } from '../../src/lib/admin/charts.ts';
import { columnChart, horizontalBars, lineChart, niceMax } from '../../src/lib/admin/chart-svg.ts';
import { paidPayment, seedPayment } from '../helpers/fixtures.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// 15 March 2026, 12:00 in Moscow (09:00 UTC).
const NOW = Date.UTC(2026, 2, 15, 9, 0, 0);

describe('percentiles', () => {
  it.each([
    [[], 50, null],
    [[7], 95, 7],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95, 10],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50, 5],
    [Array.from({ length: 100 }, (_, i) => i + 1), 95, 95],
  ])('nearest-rank percentile of %j at %i is %s', (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });

  it.each([
    [[], null],
    [[4], 4],
    [[1, 3, 10], 3],
    [[1, 3, 10, 20], 7],
  ])('median of %j is %s', (values, expected) => {
    expect(median(values)).toBe(expected);
  });
});

describe('chart series from seeded rows', () => {
  const openDb = useTempDatabases();

  async function seed(): Promise<Db> {
    const db = openDb();
    await db.run(`INSERT INTO users (id, email, name, auth_provider, auth_subject, createdAt, updatedAt) VALUES ('u1', 'u1@example.ru', 'U', 'oidc', 'u1', 0, 0)`);
    const gen = (row: { id: string; status: string; submittedAt: number | null; stage: string | null; at: number }) =>
      db.run(
        `INSERT INTO generations (id, userId, status, step, duration, cost, generation_mode, submittedAt, error_stage, createdAt, updatedAt, completedAt)
         VALUES (@id, 'u1', @status, 'done', 6, 1, 'prompt', @submittedAt, @stage, @at, @at, @at)`,
        row,
      );
    const done = async (id: string, at: number, minimaxMs: number) => {
      await gen({ id, status: 'success', submittedAt: at - minimaxMs - 5000, stage: null, at });
      await db.run(`INSERT INTO generation_events (generationId, kind, createdAt) VALUES (?, 'minimax_success', ?)`, [id, at - 5000]);
    };
    // Today: three videos, MiniMax took 60, 90 and 300 s; one failure at MINIMAX_GENERATION.
    await done('g1', NOW - HOUR, 60_000);
    await done('g2', NOW - 2 * HOUR, 90_000);
    await done('g3', NOW - 3 * HOUR, 300_000);
    await gen({ id: 'g4', status: 'failed', submittedAt: null, stage: 'MINIMAX_GENERATION', at: NOW - HOUR });
    // Five days ago: one video, two failures.
    await done('g5', NOW - 5 * DAY, 120_000);
    await gen({ id: 'g6', status: 'failed', submittedAt: null, stage: 'MINIMAX_CALL', at: NOW - 5 * DAY });
    await gen({ id: 'g7', status: 'failed', submittedAt: null, stage: 'MINIMAX_GENERATION', at: NOW - 5 * DAY });
    // Before the window: not counted.
    await done('g_old', NOW - 40 * DAY, 10_000);
    await gen({ id: 'g_live', status: 'processing', submittedAt: NOW - 60_000, stage: null, at: NOW - 60_000 });

    await paidPayment(db, { id: 'p1', userId: 'u1', amountKopecks: 149000, credits: 10, at: NOW - HOUR });
    await paidPayment(db, { id: 'p2', userId: 'u1', amountKopecks: 39000, credits: 10, at: NOW - 2 * HOUR });
    await paidPayment(db, { id: 'p3', userId: 'u1', amountKopecks: 499000, credits: 10, at: NOW - 29 * DAY });
    await seedPayment(db, { id: 'p4', userId: 'u1', amountKopecks: 39000, credits: 10, status: 'pending', at: NOW - HOUR });
    await paidPayment(db, { id: 'p5', userId: 'u1', amountKopecks: 39000, credits: 10, at: NOW - 31 * DAY });
    return db;
  }

  it('has one entry per Moscow day for the last 30 days, today last', async () => {
    const charts = await getAdminCharts(await seed(), NOW);
    expect(charts.days).toHaveLength(CHART_DAYS);
    expect(charts.days.at(-1)).toBe('2026-03-15');
    expect(charts.days[0]).toBe('2026-02-14');
    for (const series of [charts.videos, charts.revenue, charts.minimaxTime]) expect(series.map((d) => d.day)).toEqual(charts.days);
  });

  it('counts finished videos per day, success and failure apart', async () => {
    const { videos } = await getAdminCharts(await seed(), NOW);
    expect(videos.at(-1)).toEqual({ day: '2026-03-15', success: 3, failed: 1 });
    expect(videos.find((d) => d.day === '2026-03-10')).toEqual({ day: '2026-03-10', success: 1, failed: 2 });
    expect(videos.reduce((sum, d) => sum + d.success + d.failed, 0)).toBe(7);
  });

  it('sums the money received per day, succeeded payments only', async () => {
    const { revenue } = await getAdminCharts(await seed(), NOW);
    expect(revenue.at(-1)).toEqual({ day: '2026-03-15', kopecks: 188000, payments: 2 });
    expect(revenue.find((d) => d.day === '2026-02-14')).toEqual({ day: '2026-02-14', kopecks: 499000, payments: 1 });
  });

  it('groups the period’s failures by stage, biggest first', async () => {
    expect((await getAdminCharts(await seed(), NOW)).failuresByStage).toEqual([
      { stage: 'MINIMAX_GENERATION', count: 2 },
      { stage: 'MINIMAX_CALL', count: 1 },
    ]);
  });

  it('takes MiniMax’s own time (accepted → done) per day as median and 95th percentile', async () => {
    const { minimaxTime } = await getAdminCharts(await seed(), NOW);
    expect(minimaxTime.at(-1)).toEqual({ day: '2026-03-15', count: 3, medianMs: 90_000, p95Ms: 300_000 });
    expect(minimaxTime.find((d) => d.day === '2026-03-10')).toEqual({ day: '2026-03-10', count: 1, medianMs: 120_000, p95Ms: 120_000 });
    expect(minimaxTime.find((d) => d.day === '2026-03-11')).toEqual({ day: '2026-03-11', count: 0, medianMs: null, p95Ms: null });
  });

  it('says the totals and highlights the text alternatives put in words', async () => {
    expect(chartFacts(await getAdminCharts(await seed(), NOW))).toMatchObject({
      success: 4,
      failed: 3,
      busiestDay: { day: '2026-03-15', videos: 4 },
      revenueKopecks: 687000,
      payments: 3,
      bestRevenueDay: { day: '2026-02-14', kopecks: 499000 },
      failures: 3,
      minimaxTasks: 4,
      latestMinimax: { day: '2026-03-15', medianMs: 90_000 },
    });
  });
});

describe('chart geometry', () => {
  it.each([
    [0, 1],
    [1, 1],
    [3, 5],
    [7, 10],
    [12, 20],
    [149000, 200000],
    [500, 500],
  ])('rounds the axis maximum %i up to %i', (max, nice) => {
    expect(niceMax(max)).toBe(nice);
  });

  it('stacks columns so that each day’s bars add up to its total, inside the plot', () => {
    const chart = columnChart({
      categories: ['a', 'b', 'c'],
      series: [
        { name: 'ok', values: [3, 0, 1], className: 'fill-emerald-600' },
        { name: 'failed', values: [1, 0, 4], className: 'fill-red-600' },
      ],
      stacked: true,
    });
    expect(chart.max).toBe(5);
    const bottom = chart.plot.y + chart.plot.height;
    const heightOf = (index: number) => chart.bars.filter((b) => b.index === index).reduce((sum, b) => sum + b.height, 0);
    expect(heightOf(0)).toBeCloseTo((4 / 5) * chart.plot.height);
    expect(heightOf(1)).toBe(0);
    expect(heightOf(2)).toBeCloseTo(chart.plot.height);
    for (const bar of chart.bars) {
      expect(bar.y).toBeGreaterThanOrEqual(chart.plot.y - 1e-9);
      expect(bar.y + bar.height).toBeLessThanOrEqual(bottom + 1e-9);
      expect(bar.x).toBeGreaterThanOrEqual(chart.plot.x);
      expect(bar.x + bar.width).toBeLessThanOrEqual(chart.plot.x + chart.plot.width + 1e-9);
    }
    expect(chart.ticks.map((t) => t.value)).toEqual([0, 2.5, 5]);
  });

  it('labels every fifth day of thirty, ending on today', () => {
    const categories = Array.from({ length: 30 }, (_, i) => String(i + 1));
    const chart = columnChart({ categories, series: [{ name: 's', values: categories.map(() => 1), className: '' }], stacked: true, labelEvery: 5 });
    expect(chart.labels.map((l) => l.text)).toEqual(['5', '10', '15', '20', '25', '30']);
  });

  it('breaks a line where a day has no data', () => {
    const chart = lineChart({ categories: ['a', 'b', 'c', 'd'], series: [{ name: 'median', values: [10, null, 20, 40], className: '' }] });
    expect(chart.max).toBe(50);
    expect(chart.lines[0]!.segments).toHaveLength(2);
    expect(chart.lines[0]!.segments[1]!.split(' ')).toHaveLength(2);
    expect(chart.lines[0]!.dots.map((d) => d.index)).toEqual([0, 2, 3]);
  });

  it('draws horizontal bars in proportion, the biggest the widest', () => {
    const bars = horizontalBars([
      { label: 'MINIMAX_GENERATION', value: 4 },
      { label: 'MINIMAX_CALL', value: 2 },
    ]);
    expect(bars.rows[1]!.barWidth).toBeCloseTo(bars.rows[0]!.barWidth / 2);
    expect(bars.rows[1]!.y).toBeGreaterThan(bars.rows[0]!.y);
  });
});
