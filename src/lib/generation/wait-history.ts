import type { Db } from '../db/index.ts';
import type { Duration, GenerationMode } from '../model.ts';
import { estimateRemainingMs, type WaitHistory, type WaitingGeneration } from './wait-estimate.ts';

/**
 * Reads the history the wait estimate needs (wait-estimate.ts says how it is used). Both
 * reads walk a partial index of migration 0007 newest first and stop after a few rows,
 * so they stay cheap however many finished generations pile up.
 */

/** How many recent generations the medians look at. */
export const HISTORY_SIZE = 20;

function durationsOf(db: Db, mode: GenerationMode, duration: Duration): Pick<WaitHistory, 'startMs' | 'runMs'> {
  // Late deliveries of refunded (stuck) generations are left out: they measure an outage.
  const rows = db
    .prepare(
      `SELECT createdAt, submittedAt, completedAt FROM generations INDEXED BY idx_generations_finished
       WHERE status = 'success' AND generation_mode = ? AND duration = ?
         AND submittedAt IS NOT NULL AND completedAt IS NOT NULL AND refunded = 0
       ORDER BY completedAt DESC LIMIT ?`,
    )
    .all(mode, duration, HISTORY_SIZE) as Array<{ createdAt: number; submittedAt: number; completedAt: number }>;
  return {
    startMs: rows.map((r) => r.submittedAt - r.createdAt),
    runMs: rows.map((r) => r.completedAt - r.submittedAt),
  };
}

/** Gaps between consecutive submissions where the later one had been waiting in line. */
function lineGapsOf(db: Db): number[] {
  const rows = db
    .prepare(
      `SELECT createdAt, submittedAt FROM generations INDEXED BY idx_generations_submitted
       WHERE submittedAt IS NOT NULL ORDER BY submittedAt DESC LIMIT ?`,
    )
    .all(HISTORY_SIZE + 1) as Array<{ createdAt: number; submittedAt: number }>;
  const gaps: number[] = [];
  for (let i = 0; i + 1 < rows.length; i += 1) {
    const later = rows[i]!;
    const earlier = rows[i + 1]!;
    if (later.createdAt < earlier.submittedAt) gaps.push(later.submittedAt - earlier.submittedAt);
  }
  return gaps;
}

/** The estimate for one generation (null: finished, or no history to go by). */
export function estimateWaitMs(
  db: Db,
  g: WaitingGeneration & { mode: GenerationMode; duration: Duration },
  now: number,
): number | null {
  if (g.status !== 'queued' && g.status !== 'processing') return null;
  const ahead = (g.queuePosition ?? 1) > 1;
  const history: WaitHistory = { ...durationsOf(db, g.mode, g.duration), lineGapMs: ahead ? lineGapsOf(db) : [] };
  return estimateRemainingMs(g, history, now);
}
