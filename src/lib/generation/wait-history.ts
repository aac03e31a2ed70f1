import type { Database } from '../db/database.ts';
import type { Duration, GenerationMode } from '../model.ts';
import { estimateRemainingMs, type WaitHistory, type WaitingGeneration } from './wait-estimate.ts';

/**
 * Reads the history the wait estimate needs (wait-estimate.ts says how it is used). Both
 * reads walk a partial index of migration 0007 newest first and stop after a few rows,
 * so they stay cheap however many finished generations pile up.
 */

/** How many recent generations the medians look at. */
export const HISTORY_SIZE = 20;

async function durationsOf(db: Database, mode: GenerationMode, duration: Duration): Promise<Pick<WaitHistory, 'startMs' | 'runMs'>> {
  // Late deliveries of refunded (stuck) generations are left out: they measure an outage.
  const rows = await db.all<{ createdAt: number; submittedAt: number; completedAt: number }>(
    `SELECT createdAt, submittedAt, completedAt FROM generations INDEXED BY idx_generations_finished
     WHERE status = 'success' AND generation_mode = ? AND duration = ?
       AND submittedAt IS NOT NULL AND completedAt IS NOT NULL AND refunded = 0
     ORDER BY completedAt DESC LIMIT ?`,
    [mode, duration, HISTORY_SIZE],
  );
  return {
    startMs: rows.map((r) => r.submittedAt - r.createdAt),
    runMs: rows.map((r) => r.completedAt - r.submittedAt),
  };
}

/** Gaps between consecutive submissions where the later one had been waiting in line. */
async function lineGapsOf(db: Database): Promise<number[]> {
  const rows = await db.all<{ createdAt: number; submittedAt: number }>(
    `SELECT createdAt, submittedAt FROM generations INDEXED BY idx_generations_submitted
     WHERE submittedAt IS NOT NULL ORDER BY submittedAt DESC LIMIT ?`,
    [HISTORY_SIZE + 1],
  );
  const gaps: number[] = [];
  for (let i = 0; i + 1 < rows.length; i += 1) {
    const later = rows[i]!;
    const earlier = rows[i + 1]!;
    if (later.createdAt < earlier.submittedAt) gaps.push(later.submittedAt - earlier.submittedAt);
  }
  return gaps;
}

/** The estimate for one generation (null: finished, or no history to go by). */
export async function estimateWaitMs(
  db: Database,
  g: WaitingGeneration & { mode: GenerationMode; duration: Duration },
  now: number,
): Promise<number | null> {
  if (g.status !== 'queued' && g.status !== 'processing') return null;
  const ahead = (g.queuePosition ?? 1) > 1;
  const history: WaitHistory = { ...(await durationsOf(db, g.mode, g.duration)), lineGapMs: ahead ? await lineGapsOf(db) : [] };
  return estimateRemainingMs(g, history, now);
}
