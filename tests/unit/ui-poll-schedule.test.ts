import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { nextPollDelay, startPoller } from '../../src/scripts/poll-schedule.ts';

describe('nextPollDelay', () => {
  it.each([
    [1, 0, 1000],
    [2, 0, 2000],
    [3, 0, 3000],
    [4, 0, 5000],
    [40, 0, 5000],
    [3, 1, 2000],
    [3, 2, 3000],
    [3, 4, 10_000],
    [3, 99, 10_000],
  ])('after %i answers in a phase and %i failures waits %i ms', (pollsInPhase, failures, delay) => {
    expect(nextPollDelay({ pollsInPhase, failures })).toBe(delay);
  });

  it('never asks more often than once a second', () => {
    for (let polls = 0; polls < 10; polls++) expect(nextPollDelay({ pollsInPhase: polls, failures: 0 })).toBeGreaterThanOrEqual(1000);
  });
});

class FakeVisibility {
  visibilityState: DocumentVisibilityState = 'visible';
  listeners = new Set<() => void>();
  addEventListener(_type: string, listener: () => void) {
    this.listeners.add(listener);
  }
  removeEventListener(_type: string, listener: () => void) {
    this.listeners.delete(listener);
  }
  show() {
    this.visibilityState = 'visible';
    for (const listener of this.listeners) listener();
  }
}

const networkError = Object.assign(new Error('offline'), { transient: true });

describe('startPoller', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** Answers from a script; records when each request was made (fake ms since start). */
  function run(script: Array<string | Error>, visibility = new FakeVisibility()) {
    const times: number[] = [];
    const seen: string[] = [];
    const events = { networkErrors: 0, error: null as unknown };
    const start = Date.now();
    let i = 0;
    const poller = startPoller<string>({
      fetch: async () => {
        times.push(Date.now() - start);
        const next = script[Math.min(i++, script.length - 1)]!;
        if (next instanceof Error) throw next;
        return next;
      },
      isTransient: (error) => (error as { transient?: boolean }).transient === true,
      phaseOf: (answer) => answer,
      onAnswer: (answer) => {
        seen.push(answer);
        return answer === 'done';
      },
      onNetworkError: () => events.networkErrors++,
      onError: (error) => (events.error = error),
      visibility,
    });
    return { times, seen, events, poller, visibility };
  }

  it('backs off while nothing changes and starts fast again when the phase moves', async () => {
    const { times, seen } = run(['queued', 'queued', 'queued', 'queued', 'queued', 'processing', 'processing', 'done']);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(seen.at(-1)).toBe('done');
    const gaps = times.slice(1).map((t, k) => t - times[k]!);
    expect(gaps).toEqual([1000, 2000, 3000, 5000, 5000, 1000, 2000]);
  });

  it('takes its pauses from nextDelay when the page gives one (the billing page’s slow checks)', async () => {
    const times: number[] = [];
    const start = Date.now();
    let answers = 0;
    startPoller<string>({
      fetch: async () => {
        times.push(Date.now() - start);
        return ++answers < 4 ? 'pending' : 'done';
      },
      isTransient: () => false,
      phaseOf: (answer) => answer,
      onAnswer: (answer) => answer === 'done',
      onNetworkError: () => {},
      onError: () => {},
      visibility: new FakeVisibility(),
      nextDelay: (state) => (state.pollsInPhase >= 2 ? 30_000 : 1000),
    });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(times).toEqual([0, 1000, 31_000, 61_000]);
  });

  it('stops asking once the answer is final', async () => {
    const { times } = run(['done']);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(times).toHaveLength(1);
  });

  it('keeps trying through network failures, more slowly, and says so', async () => {
    const { times, seen, events } = run([networkError, networkError, networkError, 'processing', 'done']);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(events.networkErrors).toBe(3);
    expect(seen).toEqual(['processing', 'done']);
    const gaps = times.slice(1).map((t, k) => t - times[k]!);
    expect(gaps).toEqual([2000, 3000, 5000, 1000]);
  });

  it('gives up on an error that waiting will not fix, and reports it', async () => {
    const broken = new Error('not found');
    const { times, events } = run(['queued', broken, 'done']);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(events.error).toBe(broken);
    expect(times).toHaveLength(2);
  });

  it('asks at once when the tab becomes visible again', async () => {
    const { times, visibility } = run(['queued', 'queued', 'queued', 'queued', 'queued', 'queued']);
    await vi.advanceTimersByTimeAsync(6_500); // answers at 0, 1000, 3000, 6000; next due at 11000
    expect(times).toEqual([0, 1000, 3000, 6000]);
    visibility.show();
    await vi.advanceTimersByTimeAsync(0);
    expect(times).toEqual([0, 1000, 3000, 6000, 6500]);
  });

  it('does nothing more after stop()', async () => {
    const { times, poller, visibility } = run(['queued']);
    await vi.advanceTimersByTimeAsync(0);
    poller.stop();
    visibility.show();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(times).toHaveLength(1);
    expect(visibility.listeners.size).toBe(0);
  });
});
