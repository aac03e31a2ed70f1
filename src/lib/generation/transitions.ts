import type { AlertStage } from '../notify/types.ts';
import type { GenerationStep } from '../model.ts';

/**
 * Pure rules of the generation pipeline: retry pauses, late-watch pauses, what a failure
 * means for the user and which alert it raises. The state machine itself
 *
 *   status   queued ──────────────► processing ─────────────► success
 *   step     prepare ─► submit ───► poll ─────► download ───► done
 *                 └────────┴─────────┴────────────┴────► failed (refunded once)
 *
 * (a generation failed as stuck keeps its step, poll/download, so a late success from
 * MiniMax is still delivered: failed → success, free of charge) is enforced by the guarded
 * UPDATEs of queue.ts, one per transition: their WHERE clauses are the single truth.
 */


export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/**
 * Delay before retry number `retry` (1 for the first retry): capped exponential with
 * "equal jitter", so retries of many tasks spread out but never come sooner than half
 * the nominal delay.
 */
export function backoffDelay(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.min(retry - 1, 30));
  const nominal = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(nominal / 2 + random() * (nominal / 2));
}

/** The longest pause between checks of a failed generation still watched for a late video. */
export const LATE_POLL_MAX_MS = 5 * 60_000;

/**
 * How long to wait before asking MiniMax again about a task we already failed as stuck.
 * The pause grows with the time since the failure (a tenth of it, between the normal poll
 * interval and five minutes), so a six-hour watch costs about a hundred queries instead of 2,160
 * at the normal interval, and many stuck tasks cannot eat MiniMax's rate limit for live work.
 */
export function latePollDelay(sinceFailedMs: number, pollIntervalMs: number): number {
  return Math.min(LATE_POLL_MAX_MS, Math.max(pollIntervalMs, Math.round(sinceFailedMs / 10)));
}

/** What the user is told when a generation fails: a key under `generation.reason.*`. */
export type FailureReason =
  | 'INPUT_SENSITIVE'
  | 'OUTPUT_SENSITIVE'
  | 'PROMPT_CHARACTERS'
  | 'INVALID_PARAMS'
  | 'PROVIDER_UNAVAILABLE'
  | 'PROVIDER_BUSY'
  | 'GENERATION_FAILED'
  | 'TIMED_OUT'
  | 'DOWNLOAD_FAILED'
  | 'IMAGE_MISSING'
  | 'STOPPED_BY_SUPPORT'
  | 'USER_CANCELED'
  | 'INTERNAL';

export function reasonForError(code: string | null): FailureReason {
  switch (code) {
    case '1026':
      return 'INPUT_SENSITIVE';
    case '1027':
      return 'OUTPUT_SENSITIVE';
    case '1042':
      return 'PROMPT_CHARACTERS';
    case '2013':
      return 'INVALID_PARAMS';
    // Our account, key or quota: nothing the user can change.
    case '1004':
    case '1008':
    case '2038':
    case '2049':
    case '2056':
      return 'PROVIDER_UNAVAILABLE';
    case '1000':
    case '1001':
    case '1002':
    case '1013':
    case '1024':
    case '1033':
    case '1039':
    case '1041':
    case '2045':
    case 'TIMEOUT':
    case 'NETWORK':
    case 'BAD_RESPONSE':
      return 'PROVIDER_BUSY';
    case 'TASK_FAILED':
      return 'GENERATION_FAILED';
    case 'STUCK':
      return 'TIMED_OUT';
    case 'IMAGE_MISSING':
      return 'IMAGE_MISSING';
    case 'STOPPED_BY_SUPPORT':
      return 'STOPPED_BY_SUPPORT';
    case 'USER_CANCELED':
      return 'USER_CANCELED';
    default:
      if (code?.startsWith('HTTP_')) return 'PROVIDER_BUSY';
      if (code?.startsWith('DOWNLOAD_')) return 'DOWNLOAD_FAILED';
      return 'INTERNAL';
  }
}

/** The alert stage for a failure in each step (spec "Типы Оповещений"). */
export function alertStageForStep(step: GenerationStep, taskFailed: boolean): AlertStage {
  if (taskFailed) return 'MINIMAX_GENERATION';
  if (step === 'submit' || step === 'poll') return 'MINIMAX_CALL';
  if (step === 'download') return 'VIDEO_DOWNLOAD';
  return 'QUEUE_PROCESSOR';
}
