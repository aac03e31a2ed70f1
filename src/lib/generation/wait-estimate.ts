/**
 * How long a generation still has to wait, from Beem's own history (issue 16 §5). Pure: the
 * history comes in as numbers (see wait-history.ts for where they are read).
 *
 * The number is computed like this:
 * - `startMs`: median time from acceptance to MiniMax accepting the task (prompt phases and
 *   submission), over the last successes of the same mode and length;
 * - `runMs`: median time from MiniMax accepting the task to the video stored on our disk,
 *   over the same successes (the mode decides the model: prompt mode always goes to
 *   MINIMAX_MODEL, template mode to MiniMax's template pipeline);
 * - `lineGapMs`: how fast the queue in front moves — the median time between two
 *   consecutive submissions to MiniMax when the later one had been waiting in line (it was
 *   accepted before the earlier one was submitted). Concurrency and the in-flight cap are
 *   in it as they really were. With no such pairs yet, `startMs` stands in for it.
 *
 * Queued with `ahead` generations in front: ahead × lineGap + start + run.
 * Queued and next (or being prepared): what is left of `start`, plus run.
 * At MiniMax: what is left of `run`. Once that is used up we do not guess: null.
 * With fewer than MIN_SAMPLES finished generations there is no estimate at all (null).
 */

export const MIN_SAMPLES = 3;

export interface WaitHistory {
  startMs: number[];
  runMs: number[];
  lineGapMs: number[];
}

export interface WaitingGeneration {
  status: string;
  createdAt: number;
  submittedAt: number | null;
  /** 1 when next in line; null when not queued. */
  queuePosition: number | null;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : Math.round((sorted[middle - 1]! + sorted[middle]!) / 2);
}

/** Milliseconds still to wait, or null when history cannot say (never a made-up number). */
export function estimateRemainingMs(g: WaitingGeneration, history: WaitHistory, now: number): number | null {
  if (g.status !== 'queued' && g.status !== 'processing') return null;
  if (history.startMs.length < MIN_SAMPLES || history.runMs.length < MIN_SAMPLES) return null;
  const start = median(history.startMs)!;
  const run = median(history.runMs)!;
  let remaining: number;
  if (g.submittedAt !== null) {
    remaining = run - (now - g.submittedAt);
  } else {
    const ahead = Math.max(0, (g.queuePosition ?? 1) - 1);
    if (ahead > 0) {
      const gap = history.lineGapMs.length >= MIN_SAMPLES ? median(history.lineGapMs)! : start;
      remaining = ahead * gap + start + run;
    } else {
      remaining = Math.max(0, start - (now - g.createdAt)) + run;
    }
  }
  return remaining > 0 ? Math.round(remaining) : null;
}
