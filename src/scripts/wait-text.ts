import type { Translator } from './translator.ts';

/**
 * The waiting line under the running stage: how many videos are ahead, and about how long is
 * left, from the server's `etaMs` (wait-estimate.ts) counted down since the answer came. No
 * estimate, or one already used up, says nothing rather than a made-up number.
 */

export interface WaitingView {
  queuePosition?: number | null;
  etaMs?: number | null;
}

export function remainingText(tr: Pick<Translator, 't' | 'tn'>, etaMs: number | null | undefined, sinceAnswerMs: number): string {
  if (typeof etaMs !== 'number') return '';
  const left = etaMs - sinceAnswerMs;
  if (left <= 0) return '';
  if (left < 60_000) return tr.t('ui.wait.eta.underMinute');
  return tr.tn('ui.wait.eta.minutes', Math.ceil(left / 60_000));
}

export function queueText(tr: Pick<Translator, 'tn'>, queuePosition: number | null | undefined): string {
  return typeof queuePosition === 'number' && queuePosition > 1 ? tr.tn('ui.wait.queueAhead', queuePosition - 1) : '';
}

/**
 * The queue stage already names its place in line (`ui.stage.queue.position`); a generation
 * still waiting for its prompt step (stage `prepare`) is told how many are ahead here.
 */
export function waitText(tr: Pick<Translator, 't' | 'tn'>, view: WaitingView, options: { sinceAnswerMs: number; withQueue: boolean }): string {
  const queue = options.withQueue ? queueText(tr, view.queuePosition) : '';
  return [queue, remainingText(tr, view.etaMs, options.sinceAnswerMs)].filter(Boolean).join(' ');
}
