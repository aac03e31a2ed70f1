import type { Database } from '../db/database.ts';
import { startOfBusinessDay } from './dashboard.ts';
import { toMoscowDate } from './format.ts';

/**
 * The series behind the overview's charts, per Moscow day over the last `days` days (today
 * included): finished videos (success, failure), money received, failures by stage, and how
 * long MiniMax took from accepting a task to reporting it done (median and 95th percentile).
 * Read-only, computed from the tables on each call; days without data are zero (or null for
 * times), so every series has one entry per day.
 */

const DAY_MS = 24 * 60 * 60 * 1000;
export const CHART_DAYS = 30;

export interface DailyVideos {
  day: string;
  success: number;
  failed: number;
}

export interface DailyRevenue {
  day: string;
  kopecks: number;
  payments: number;
}

export interface DailyMinimaxTime {
  day: string;
  /** Tasks MiniMax finished that day. */
  count: number;
  medianMs: number | null;
  p95Ms: number | null;
}

export interface AdminCharts {
  /** Moscow days, oldest first, `YYYY-MM-DD`. */
  days: string[];
  videos: DailyVideos[];
  revenue: DailyRevenue[];
  /** Failed generations of the period by `error_stage`, biggest first. */
  failuresByStage: Array<{ stage: string; count: number }>;
  minimaxTime: DailyMinimaxTime[];
}

/** Nearest-rank percentile of values sorted ascending (p in 0…100); null for no values. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** The median as statisticians take it: the mean of the two middle values of an even count. */
export function median(sorted: number[]): number | null {
  if (sorted.length === 0) return null;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : Math.round((sorted[middle - 1]! + sorted[middle]!) / 2);
}

export async function getAdminCharts(db: Database, now: number, days = CHART_DAYS): Promise<AdminCharts> {
  const since = startOfBusinessDay(now) - (days - 1) * DAY_MS;
  const labels = Array.from({ length: days }, (_, i) => toMoscowDate(since + i * DAY_MS));
  const index = new Map(labels.map((day, i) => [day, i]));
  const dayOf = (ms: number) => index.get(toMoscowDate(ms));

  const videos: DailyVideos[] = labels.map((day) => ({ day, success: 0, failed: 0 }));
  const finished = await db.all<{ status: 'success' | 'failed'; at: number }>(
    `SELECT status, COALESCE(completedAt, updatedAt) AS at FROM generations
     WHERE status IN ('success', 'failed') AND COALESCE(completedAt, updatedAt) >= ?`,
    [since],
  );
  for (const row of finished) {
    const i = dayOf(row.at);
    if (i !== undefined) videos[i]![row.status] += 1;
  }

  const revenue: DailyRevenue[] = labels.map((day) => ({ day, kopecks: 0, payments: 0 }));
  const paid = await db.all<{ kopecks: number; at: number }>(
    `SELECT amount_kopecks AS kopecks, COALESCE(appliedAt, updatedAt) AS at FROM payments
     WHERE status = 'succeeded' AND COALESCE(appliedAt, updatedAt) >= ?`,
    [since],
  );
  for (const row of paid) {
    const i = dayOf(row.at);
    if (i === undefined) continue;
    revenue[i]!.kopecks += row.kopecks;
    revenue[i]!.payments += 1;
  }

  const failuresByStage = await db.all<{ stage: string; count: number }>(
    `SELECT COALESCE(error_stage, 'UNKNOWN') AS stage, COUNT(*) AS count FROM generations
     WHERE status = 'failed' AND COALESCE(completedAt, updatedAt) >= ?
     GROUP BY COALESCE(error_stage, 'UNKNOWN') ORDER BY count DESC, stage`,
    [since],
  );

  // From MiniMax accepting the task (submittedAt) to its first "Success" (the event the
  // worker records before downloading): MiniMax's own time, without our queue or download.
  const durations: number[][] = labels.map(() => []);
  const tasks = await db.all<{ submittedAt: number; doneAt: number }>(
    `SELECT g.submittedAt AS submittedAt, MIN(e.createdAt) AS doneAt FROM generation_events e
     JOIN generations g ON g.id = e.generationId
     WHERE e.kind = 'minimax_success' AND e.createdAt >= ? AND g.submittedAt IS NOT NULL
     GROUP BY e.generationId, g.submittedAt`,
    [since],
  );
  for (const task of tasks) {
    const i = dayOf(task.doneAt);
    if (i !== undefined) durations[i]!.push(Math.max(0, task.doneAt - task.submittedAt));
  }
  const minimaxTime = labels.map((day, i) => {
    const sorted = durations[i]!.sort((a, b) => a - b);
    return { day, count: sorted.length, medianMs: median(sorted), p95Ms: percentile(sorted, 95) };
  });

  return { days: labels, videos, revenue, failuresByStage, minimaxTime };
}

export interface ChartFacts {
  success: number;
  failed: number;
  /** The day with the most finished videos (null when none). */
  busiestDay: { day: string; videos: number } | null;
  revenueKopecks: number;
  payments: number;
  bestRevenueDay: { day: string; kopecks: number } | null;
  failures: number;
  /** Tasks MiniMax finished in the period. */
  minimaxTasks: number;
  /** The newest day with MiniMax times. */
  latestMinimax: DailyMinimaxTime | null;
}

/** Totals and highlights the charts' text alternatives say in words. */
export function chartFacts(charts: AdminCharts): ChartFacts {
  const top = <T>(items: T[], value: (item: T) => number): T | null =>
    items.reduce<T | null>((best, item) => (value(item) > 0 && (best === null || value(item) > value(best)) ? item : best), null);
  const busiest = top(charts.videos, (d) => d.success + d.failed);
  const best = top(charts.revenue, (d) => d.kopecks);
  return {
    success: charts.videos.reduce((sum, d) => sum + d.success, 0),
    failed: charts.videos.reduce((sum, d) => sum + d.failed, 0),
    busiestDay: busiest && { day: busiest.day, videos: busiest.success + busiest.failed },
    revenueKopecks: charts.revenue.reduce((sum, d) => sum + d.kopecks, 0),
    payments: charts.revenue.reduce((sum, d) => sum + d.payments, 0),
    bestRevenueDay: best && { day: best.day, kopecks: best.kopecks },
    failures: charts.failuresByStage.reduce((sum, f) => sum + f.count, 0),
    minimaxTasks: charts.minimaxTime.reduce((sum, d) => sum + d.count, 0),
    latestMinimax: [...charts.minimaxTime].reverse().find((d) => d.count > 0) ?? null,
  };
}
