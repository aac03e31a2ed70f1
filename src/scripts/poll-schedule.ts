/**
 * When to ask the server again. The spec's one-second poll is the fastest rate; while
 * nothing changes we back off (1 → 2 → 3 → 5 s) and start fast again when the phase moves.
 * Without a network we keep trying, more slowly, up to every 10 s.
 */

export const PHASE_DELAYS_MS = [1000, 2000, 3000, 5000] as const;
export const OFFLINE_DELAYS_MS = [2000, 3000, 5000, 10_000] as const;

export interface PollState {
  /** Polls answered in the current phase (status + step) so far, 1 after the first. */
  pollsInPhase: number;
  /** Network failures in a row; 0 when the last poll was answered. */
  failures: number;
}

const pick = (list: readonly number[], index: number) => list[Math.min(Math.max(index, 0), list.length - 1)]!;

export function nextPollDelay(state: PollState): number {
  if (state.failures > 0) return pick(OFFLINE_DELAYS_MS, state.failures - 1);
  return pick(PHASE_DELAYS_MS, state.pollsInPhase - 1);
}

export interface PollerOptions<T> {
  /** One request. */
  fetch(): Promise<T>;
  /** Errors worth waiting out (no network, the server restarting); any other stops polling. */
  isTransient(error: unknown): boolean;
  /** The phase of an answer; a change resets the back-off. */
  phaseOf(answer: T): string;
  /** Handle an answer; return true when polling is finished. */
  onAnswer(answer: T): boolean;
  onNetworkError(failures: number): void;
  onError(error: unknown): void;
  /** Where visibility changes come from (the page's document unless a test says otherwise). */
  visibility?: VisibilitySource;
  /** The pause before the next request (default `nextPollDelay`). */
  nextDelay?: (state: PollState) => number;
}

export interface VisibilitySource {
  readonly visibilityState: string;
  addEventListener(type: 'visibilitychange', listener: () => void): void;
  removeEventListener(type: 'visibilitychange', listener: () => void): void;
}

export interface Poller {
  stop(): void;
  /** Ask now (when the tab becomes visible again, or the user presses "retry"). */
  pollNow(): void;
}

/** Runs `fetch` with `nextPollDelay` between answers, at most one request at a time. */
export function startPoller<T>(options: PollerOptions<T>): Poller {
  const state: PollState = { pollsInPhase: 0, failures: 0 };
  let phase = '';
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight = false;
  let stopped = false;
  const delayFor = options.nextDelay ?? nextPollDelay;

  const schedule = (ms: number) => {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(tick, ms);
  };

  async function tick(): Promise<void> {
    if (stopped || inFlight) return;
    clearTimeout(timer);
    inFlight = true;
    try {
      const answer = await options.fetch();
      if (stopped) return;
      state.failures = 0;
      const next = options.phaseOf(answer);
      state.pollsInPhase = next === phase ? state.pollsInPhase + 1 : 1;
      phase = next;
      if (options.onAnswer(answer)) {
        finish();
        return;
      }
      schedule(delayFor(state));
    } catch (error) {
      if (stopped) return;
      if (options.isTransient(error)) {
        state.failures += 1;
        options.onNetworkError(state.failures);
        schedule(delayFor(state));
      } else {
        finish();
        options.onError(error);
      }
    } finally {
      inFlight = false;
    }
  }

  const visibility = options.visibility ?? document;
  const onVisible = () => {
    if (visibility.visibilityState === 'visible') void tick();
  };
  function finish(): void {
    stopped = true;
    clearTimeout(timer);
    visibility.removeEventListener('visibilitychange', onVisible);
  }
  visibility.addEventListener('visibilitychange', onVisible);
  void tick();

  return {
    stop: finish,
    pollNow() {
      void tick();
    },
  };
}
